// agent.js: the agent console. State lives in S; render* functions rebuild
// parts of the page from it with DOM calls only (customer and message text is
// always set with textContent, never parsed as HTML). The wire protocol is
// docs/PROTOCOL.md.
import { api, loginURL, safeURL } from '/ui/api.js';
import { t, has, locale, applyI18n, bindLangSelect, onLangChange } from '/ui/i18n.js';

const S = {
  me: null,
  agent: { state: 'offline', reason: '', since: null, phone_registered: false },
  offers: new Map(), // offer_id → {offer, localDeadline, total}
  contacts: new Map(), // contact id → entry (see entryFor)
  selected: null, // contact id
  canned: null, // [{id,title,body}] once loaded
  queues: null,
  agents: null,
  conn: 'connecting', // connecting | ok | lost
  ws: null,
  backoff: 1000,
};

const $ = (id) => document.getElementById(id);

// h builds an element. attrs: id, class, text, testid, and any attribute;
// keys starting with "on" add listeners. Children: nodes or strings (text).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

// withID sets both id and data-testid, the stable hooks for tests.
const ids = (id) => ({ id, testid: id });

// ---------- formatting ----------

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return new Intl.DateTimeFormat(locale(), sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(d);
}

function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), { year: 'numeric', month: 'short', day: 'numeric' }).format(d);
}

function fmtMoney(n, currency) {
  if (typeof n !== 'number') return '—';
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency: currency || 'USD', maximumFractionDigits: 0 }).format(n);
  } catch {
    return new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(n);
  }
}

function fmtDuration(sec) {
  sec = Math.max(0, Math.floor(sec));
  const hh = Math.floor(sec / 3600);
  const mm = Math.floor((sec % 3600) / 60);
  const ss = String(sec % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

// label translates prefix.value if known, else shows the raw value.
function label(prefix, value) {
  if (value === undefined || value === null || value === '') return '—';
  const key = `${prefix}.${value}`;
  return has(key) ? t(key) : String(value);
}

// ---------- icons (inline SVG, built with DOM calls) ----------

const ICONS = {
  voice: 'M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z',
  chat: 'M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z',
  email: 'M3 5h18a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm1 2.2V17h16V7.2l-8 5.3z',
  sms: 'M7 2h10a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm0 3v13h10V5z',
};

function channelIcon(channel) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${channel}`);
  svg.setAttribute('aria-hidden', 'true');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', ICONS[channel] || ICONS.chat);
  svg.append(p);
  const wrap = h('span', { class: `channel channel-${channel}`, title: label('channel', channel) }, svg,
    h('span', { class: 'visually-hidden', text: label('channel', channel) }));
  return wrap;
}

function tierBadge(tier, id, pinned) {
  const tr = tier || 'standard';
  return h('span', { ...(id ? ids(id) : {}), class: `tier tier-${tr}`, 'data-tier': tr },
    label('tier', tr), pinned ? h('span', { class: 'pin', title: t('tier.pinned'), text: ' 📌' }) : null);
}

// ---------- toast ----------

let toastTimer = 0;
function toast(text, kind = 'info') {
  const el = $('toast');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
}
const toastError = (e) => toast(t('common.error', { error: e && e.message ? e.message : String(e) }), 'error');

// ---------- state helpers ----------

function entryFor(contact) {
  let e = S.contacts.get(contact.id);
  if (!e) {
    e = { contact, profile: null, messages: [], notes: [], tags: [], loaded: false, unread: 0,
      typingUntil: 0, timeline: null, draft: '', lastRead: 0, lastTyping: 0, panel: null };
    S.contacts.set(contact.id, e);
  } else {
    e.contact = { ...e.contact, ...contact };
  }
  return e;
}

function mergeMessages(e, msgs) {
  const byID = new Map(e.messages.map((m) => [m.id, m]));
  for (const m of msgs || []) byID.set(m.id, m);
  e.messages = [...byID.values()].sort(byTime);
}

function byTime(a, b) {
  const d = Date.parse(a.created_at || 0) - Date.parse(b.created_at || 0);
  return d || (a.id || 0) - (b.id || 0);
}

function customerName(e) {
  if (e.profile && e.profile.name) return e.profile.name;
  const c = e.contact;
  return (c.from && c.from.value) || `#${c.id}`;
}

function agentName() {
  return (S.me && (S.me.display_name || S.me.name)) || '';
}

function selectedEntry() {
  return S.selected == null ? null : S.contacts.get(S.selected) || null;
}

// ---------- header ----------

function renderHeader() {
  $('agent-name').textContent = agentName();
  const st = S.agent.state || 'offline';
  const badge = $('agent-state');
  badge.textContent = label('state', st) + (st === 'away' && S.agent.reason ? ` · ${label('reason', S.agent.reason)}` : '');
  badge.dataset.state = st;
  const sel = $('state-select');
  sel.value = st === 'away' ? 'away' : st === 'offline' ? 'offline' : 'available';
  $('away-reason-field').hidden = sel.value !== 'away';
  if (st === 'away' && S.agent.reason) $('away-reason').value = S.agent.reason;
  const ph = $('phone-indicator');
  const reg = !!S.agent.phone_registered;
  ph.dataset.registered = String(reg);
  ph.textContent = reg ? t('phone.registered') : t('phone.unregistered');
  const cs = $('connection-status');
  cs.dataset.conn = S.conn;
  cs.textContent = S.conn === 'ok' ? '' : t(S.conn === 'lost' ? 'conn.lost' : 'conn.connecting');
}

async function changeState() {
  const state = $('state-select').value;
  $('away-reason-field').hidden = state !== 'away';
  const body = { state };
  if (state === 'away') body.reason = $('away-reason').value;
  try {
    const r = await api('POST', '/api/v1/agent/state', body);
    if (r) S.agent = { ...S.agent, ...r };
  } catch (e) {
    toastError(e);
  }
  renderHeader();
}

// ---------- offer ----------

function offerEntries() {
  return [...S.offers.values()].sort((a, b) => a.localDeadline - b.localDeadline);
}

function addOffer(offer) {
  const now = Date.now();
  const total = Number(offer.timeout_ms) || 0;
  let deadline = total ? now + total : Infinity;
  const server = Date.parse(offer.deadline);
  if (!Number.isNaN(server)) deadline = Math.min(deadline, server);
  const isNew = !S.offers.has(offer.offer_id);
  S.offers.set(offer.offer_id, { offer, localDeadline: deadline, total: total || Math.max(1, deadline - now) });
  if (isNew) {
    const name = (offer.profile && offer.profile.name) || (offer.identity && offer.identity.value) || '';
    $('offer-announce').textContent = t('offer.announce', { channel: label('channel', offer.contact.channel), name });
  }
}

function currentOffer() {
  return offerEntries()[0] || null;
}

function renderOffer() {
  const sec = $('offer');
  const cur = currentOffer();
  sec.textContent = '';
  if (!cur) {
    sec.hidden = true;
    return;
  }
  sec.hidden = false;
  const { offer } = cur;
  const c = offer.contact || {};
  const p = offer.profile;
  sec.dataset.offerId = offer.offer_id;
  sec.dataset.tier = (p && p.tier) || c.tier || 'standard';

  const head = h('div', { class: 'offer-head' },
    channelIcon(c.channel),
    h('h2', { id: 'offer-heading', text: t('offer.heading', { channel: label('channel', c.channel) }) }),
    S.offers.size > 1 ? h('span', { ...ids('offer-more'), class: 'pill', text: t('offer.more', { n: S.offers.size - 1 }) }) : null,
    h('span', { class: 'spacer' }),
    h('div', { class: 'countdown' },
      h('span', { ...ids('offer-countdown'), class: 'countdown-text' }),
      h('span', { class: 'countdown-bar', 'aria-hidden': 'true' }, h('span', { id: 'offer-countdown-bar' }))));
  sec.append(head);

  if (Array.isArray(offer.collision) && offer.collision.length) {
    const names = offer.collision.map((x) => x.agent_name || `#${x.agent_id}`).join(', ');
    sec.append(h('p', { ...ids('offer-collision'), class: 'warning', role: 'alert', text: t('offer.collision', { names }) }));
  }

  const who = h('div', { class: 'offer-who' },
    h('h3', { ...ids('offer-customer-name'), text: (p && p.name) || t('profile.unknown') }),
    tierBadge((p && p.tier) || c.tier || 'standard', 'offer-tier', p && p.tier_pinned),
    p && p.company ? h('p', { class: 'muted', text: p.company }) : null,
    h('p', { ...ids('offer-identity'), class: 'identity' },
      h('span', { class: 'muted', text: `${label('unknown', 'identity')}: ` }),
      `${(offer.identity && offer.identity.value) || (c.from && c.from.value) || ''}`),
    c.queue ? h('p', { class: 'muted', text: t('offer.queue', { queue: c.queue }) }) : null,
    c.subject ? h('p', { ...ids('offer-subject'), class: 'subject', text: t('offer.subject', { subject: c.subject }) }) : null,
    p && p.hint ? h('p', { ...ids('offer-hint'), class: 'hint' }, h('strong', { text: `${t('profile.hint')}: ` }), p.hint) : null);

  let body;
  if (p) {
    body = h('div', { class: 'offer-body' }, who, profileStats(p, 'offer'), profileLists(p, 'offer'));
  } else {
    body = h('div', { class: 'offer-body offer-unknown' }, who,
      unknownCustomerBox(offer.identity || c.from, 'offer', async (customer) => {
        try {
          const prof = await api('GET', `/api/v1/customers/${encodeURIComponent(customer.id)}/profile`);
          offer.profile = prof.profile || prof;
        } catch { /* the link stands; profile shows on accept */ }
        offer.contact.customer_id = customer.id;
        renderOffer();
      }));
  }
  sec.append(body);

  sec.append(h('div', { class: 'offer-actions' },
    h('button', { ...ids('offer-accept'), type: 'button', class: 'primary accept', 'aria-keyshortcuts': 'Alt+A', onclick: () => acceptOffer(offer.offer_id) },
      t('offer.accept'), h('kbd', { text: t('offer.shortcut.accept') })),
    h('button', { ...ids('offer-decline'), type: 'button', class: 'danger', 'aria-keyshortcuts': 'Alt+D', onclick: () => declineOffer(offer.offer_id) },
      t('offer.decline'), h('kbd', { text: t('offer.shortcut.decline') }))));
  tickOffer();
}

function tickOffer() {
  const cur = currentOffer();
  const txt = $('offer-countdown');
  if (!cur || !txt) return;
  const left = cur.localDeadline - Date.now();
  txt.textContent = Number.isFinite(left) ? (left > 0 ? t('offer.remaining', { s: Math.ceil(left / 1000) }) : t('offer.expired')) : '';
  const bar = $('offer-countdown-bar');
  if (bar && Number.isFinite(left)) {
    const frac = Math.max(0, Math.min(1, left / cur.total));
    bar.style.width = `${(frac * 100).toFixed(1)}%`;
    bar.dataset.low = String(frac < 0.3);
  }
}

async function acceptOffer(id) {
  const o = S.offers.get(id);
  if (!o) return;
  const btn = $('offer-accept');
  if (btn) btn.disabled = true;
  try {
    const r = await api('POST', `/api/v1/offers/${encodeURIComponent(id)}/accept`);
    S.offers.delete(id);
    const e = entryFor((r && r.contact) || o.offer.contact);
    if (!e.profile) e.profile = o.offer.profile || null;
    toast(t('offer.accepted'));
    renderOffer();
    select(e.contact.id);
  } catch (e) {
    if (e.status === 404 || e.status === 409 || e.status === 410) {
      S.offers.delete(id);
      renderOffer();
    }
    toastError(e);
    if (btn) btn.disabled = false;
  }
}

async function declineOffer(id) {
  try {
    await api('POST', `/api/v1/offers/${encodeURIComponent(id)}/decline`);
  } catch (e) {
    toastError(e);
  }
  S.offers.delete(id);
  renderOffer();
}

// ---------- profile pieces (offer and sidebar) ----------

function stat(id, name, value, extra) {
  return h('div', { class: 'stat' }, h('dt', { text: name }), h('dd', { ...ids(id) }, value, extra || null));
}

function profileStats(p, prefix) {
  const rfm = p.rfm || {};
  const cur = p.orders && p.orders.currency;
  const dl = h('dl', { class: 'stats', ...ids(`${prefix}-stats`) },
    stat(`${prefix}-value`, t('profile.value'), p.value_score != null ? String(Math.round(p.value_score)) : '—'),
    stat(`${prefix}-clv`, t('profile.clv'), fmtMoney(p.clv, cur)),
    stat(`${prefix}-rfm`, t('profile.rfm'), rfm.cell || '—', rfm.segment ? h('span', { class: 'muted', text: ` ${label('segment', rfm.segment)}` }) : null),
    stat(`${prefix}-abc`, t('profile.abc'), p.abc || '—', p.key_account ? h('span', { class: 'pill key', text: t('profile.key_account') }) : null),
    stat(`${prefix}-lifecycle`, t('profile.lifecycle'), label('lifecycle', p.lifecycle)),
    stat(`${prefix}-quadrant`, t('profile.quadrant'), label('quadrant', p.quadrant)),
    stat(`${prefix}-csat`, t('profile.last_csat'), p.last_csat ? `${p.last_csat}/5` : '—'),
    stat(`${prefix}-orders`, t('profile.orders'), p.orders ? t('profile.orders.value', { count: p.orders.count || 0, total: fmtMoney(p.orders.total, cur) }) : '—'));
  return dl;
}

function profileLists(p, prefix) {
  const recent = (p.recent_contacts || []).slice(0, 5);
  const complaints = p.open_complaints || [];
  return h('div', { class: 'profile-lists' },
    h('h4', { text: t('profile.recent') }),
    recent.length
      ? h('ul', { ...ids(`${prefix}-recent`), class: 'mini-list' }, recent.map((r) => h('li', {},
        channelIcon(r.channel), h('span', { text: fmtDate(r.created_at) }),
        h('span', { class: 'muted', text: r.disposition ? label('disp', r.disposition) : label('cstate', r.state) }))))
      : h('p', { ...ids(`${prefix}-recent`), class: 'muted', text: t('profile.none') }),
    h('h4', { text: t('profile.complaints') }),
    complaints.length
      ? h('ul', { ...ids(`${prefix}-complaints`), class: 'mini-list complaints' }, complaints.map((x) => h('li', { 'data-severity': x.severity },
        h('span', { class: `sev sev-${x.severity}`, text: label('sev', x.severity) }),
        h('span', { text: label('cat', x.category) }),
        x.due_at ? h('span', { class: 'muted', text: t('profile.due', { at: fmtDate(x.due_at) }) }) : null)))
      : h('p', { ...ids(`${prefix}-complaints`), class: 'muted', text: t('profile.none') }));
}

// unknownCustomerBox offers "link to existing customer" and "create
// customer" for an unrecognised identity; onLinked(customer) afterwards.
function unknownCustomerBox(identity, prefix, onLinked) {
  identity = identity || { kind: 'phone', value: '' };
  const results = h('ul', { ...ids(`${prefix}-results`), class: 'mini-list results', 'aria-live': 'polite' });
  const search = h('input', { ...ids(`${prefix}-search`), type: 'search', value: identity.value || '', autocomplete: 'off' });
  const createName = h('input', { ...ids(`${prefix}-create-name`), type: 'text', autocomplete: 'off' });

  async function link(cust) {
    try {
      await api('POST', `/api/v1/customers/${encodeURIComponent(cust.id)}/identities`, { kind: identity.kind, value: identity.value });
      toast(t('unknown.linked', { name: cust.name || `#${cust.id}` }));
      onLinked(cust);
    } catch (e) { toastError(e); }
  }

  async function doSearch(ev) {
    ev.preventDefault();
    const q = search.value.trim();
    if (!q) return;
    const param = q.includes('@') ? 'email' : 'phone';
    results.textContent = '';
    try {
      const r = await api('GET', `/api/v1/customers?${param}=${encodeURIComponent(q)}`);
      const list = (r && r.customers) || [];
      if (!list.length) results.append(h('li', { class: 'muted', text: t('unknown.noresults') }));
      for (const cust of list) {
        results.append(h('li', {},
          h('span', { text: cust.name || `#${cust.id}` }),
          cust.external_id ? h('span', { class: 'muted', text: ` ${cust.external_id}` }) : null,
          h('button', { type: 'button', class: 'small', 'data-customer-id': cust.id, onclick: () => link(cust) }, t('unknown.link.one'))));
      }
    } catch (e) { toastError(e); }
  }

  async function doCreate(ev) {
    ev.preventDefault();
    const name = createName.value.trim();
    if (!name) { createName.focus(); return; }
    try {
      const r = await api('POST', '/api/v1/customers', { name, identities: [{ kind: identity.kind, value: identity.value }] });
      const cust = (r && (r.customer || r)) || {};
      toast(t('unknown.created', { name }));
      onLinked({ id: cust.id, name: cust.name || name });
    } catch (e) { toastError(e); }
  }

  return h('div', { class: 'unknown-box', ...ids(`${prefix}-unknown`) },
    h('form', { class: 'inline-form', onsubmit: doSearch },
      h('h4', { text: t('unknown.link') }),
      h('label', { for: `${prefix}-search`, text: t('unknown.search.label') }),
      h('div', { class: 'row' }, search, h('button', { ...ids(`${prefix}-search-submit`), type: 'submit' }, t('unknown.search')))),
    results,
    h('form', { class: 'inline-form', onsubmit: doCreate },
      h('h4', { text: t('unknown.create') }),
      h('label', { for: `${prefix}-create-name`, text: t('unknown.create.name') }),
      h('div', { class: 'row' }, createName, h('button', { ...ids(`${prefix}-create-submit`), type: 'submit' }, t('unknown.create.submit')))));
}

// ---------- contact list ----------

function renderContactList() {
  const ul = $('contact-list');
  ul.textContent = '';
  const list = [...S.contacts.values()].sort((a, b) => byTime(a.contact, b.contact));
  $('contact-list-empty').hidden = list.length > 0;
  for (const e of list) {
    const c = e.contact;
    const tier = (e.profile && e.profile.tier) || c.tier || 'standard';
    ul.append(h('li', {},
      h('button', {
        type: 'button', class: 'contact-item', 'data-contact-id': c.id, 'data-state': c.state,
        'aria-current': S.selected === c.id ? 'true' : null, onclick: () => select(c.id),
      },
      channelIcon(c.channel),
      h('span', { class: 'ci-main' },
        h('span', { class: 'ci-name', text: customerName(e) }),
        h('span', { class: 'ci-sub' },
          h('span', { class: `tier-dot tier-${tier}`, title: label('tier', tier) }),
          `${label('channel', c.channel)} · ${label('cstate', c.state)}`)),
      e.unread ? h('span', { class: 'unread', text: String(e.unread), 'aria-label': t('contacts.unread', { n: e.unread }) }) : null)));
  }
}

// ---------- selection & loading ----------

async function select(id) {
  const e = S.contacts.get(id);
  if (!e) return;
  S.selected = id;
  e.unread = 0;
  renderContactList();
  renderDetail();
  renderSidebar();
  if (!e.loaded) {
    e.loaded = true;
    try {
      const r = await api('GET', `/api/v1/contacts/${encodeURIComponent(id)}`);
      if (r.contact) e.contact = { ...e.contact, ...r.contact };
      mergeMessages(e, r.messages);
      e.notes = (r.notes || []).slice().sort(byTime);
      e.tags = r.tags || [];
    } catch (err) {
      e.loaded = false;
      toastError(err);
    }
    if (S.selected === id) { renderDetail(); renderSidebar(); }
  }
  if (!e.profile && e.contact.customer_id) loadProfile(e);
  if (e.contact.customer_id && !e.timeline) loadTimeline(e);
  if (e.contact.channel !== 'voice' && !S.canned) loadCanned();
}

async function loadProfile(e) {
  try {
    const r = await api('GET', `/api/v1/customers/${encodeURIComponent(e.contact.customer_id)}/profile`);
    e.profile = (r && r.profile) || r;
    renderContactList();
    if (S.selected === e.contact.id) { renderDetailHead(); renderSidebar(); }
  } catch (err) { toastError(err); }
}

async function loadTimeline(e) {
  try {
    const r = await api('GET', `/api/v1/customers/${encodeURIComponent(e.contact.customer_id)}/timeline`);
    e.timeline = (r && r.items) || [];
  } catch (err) {
    e.timeline = [];
    toastError(err);
  }
  if (S.selected === e.contact.id) renderSidebar();
}

async function loadCanned() {
  S.canned = [];
  try {
    const r = await api('GET', '/api/v1/canned-responses');
    S.canned = (r && r.canned_responses) || [];
  } catch (err) { S.canned = null; toastError(err); return; }
  const sel = $('canned-select');
  if (sel) fillCanned(sel);
}

function fillCanned(sel) {
  sel.textContent = '';
  sel.append(h('option', { value: '', text: t('canned.choose') }));
  for (const c of S.canned || []) sel.append(h('option', { value: String(c.id), text: c.title }));
}

function substitute(body, e) {
  return String(body)
    .replace(/\{\{\s*customer\.name\s*\}\}/g, e.profile && e.profile.name ? e.profile.name : '')
    .replace(/\{\{\s*agent\.name\s*\}\}/g, agentName());
}

// ---------- detail pane ----------

function renderDetail() {
  const pane = $('detail');
  const active = document.activeElement && document.activeElement.id;
  pane.textContent = '';
  const e = selectedEntry();
  if (!e) {
    pane.append(h('p', { class: 'empty center', text: t('detail.empty') }));
    return;
  }
  const c = e.contact;
  pane.dataset.channel = c.channel;
  pane.append(h('div', { id: 'detail-head' }));
  renderDetailHead();
  if (c.channel === 'voice') pane.append(callPanel(e));
  pane.append(h('ol', { ...ids('conversation'), class: 'conversation', role: 'log', 'aria-live': 'polite', 'aria-label': t('conv.label'), tabindex: '0' }));
  pane.append(h('p', { ...ids('typing-indicator'), class: 'typing', hidden: true, text: t('conv.typing') }));
  if (c.state === 'wrapup') pane.append(wrapupForm(e));
  else if (c.state === 'active' || c.state === 'offered') pane.append(composer(e));
  renderConversation();
  if (active && $(active) && pane.contains($(active))) $(active).focus();
}

function renderDetailHead() {
  const head = $('detail-head');
  const e = selectedEntry();
  if (!head || !e) return;
  const c = e.contact;
  head.className = 'detail-head';
  head.textContent = '';
  head.append(...[
    channelIcon(c.channel),
    h('div', { class: 'dh-main' },
      h('h2', { ...ids('detail-title'), text: customerName(e) }),
      h('p', { class: 'muted' },
        c.from && c.from.value ? t('detail.from', { from: c.from.value }) : '',
        c.subject ? h('span', { class: 'subject', text: ` — ${c.subject}` }) : null)),
    tierBadge((e.profile && e.profile.tier) || c.tier || 'standard', 'detail-tier'),
    h('span', { ...ids('contact-state'), class: 'state-pill', 'data-state': c.state, text: label('cstate', c.state) }),
    c.state === 'active' ? h('button', { ...ids('transfer-open'), type: 'button', onclick: openTransfer }, t('detail.transfer')) : null,
    c.state === 'active' ? h('button', { ...ids('end-contact'), type: 'button', class: 'danger', onclick: () => endContact(e) }, t('detail.end')) : null,
  ].filter(Boolean));
}

function callPanel(e) {
  const c = e.contact;
  const cs = c.state === 'wrapup' || c.state === 'closed' ? 'ended' : c.call_state || (c.state === 'active' ? 'talking' : 'ringing');
  return h('section', { class: 'call-panel', ...ids('call-panel'), 'data-call-state': cs, 'aria-label': t('call.state') },
    h('span', { class: 'call-dot', 'aria-hidden': 'true' }),
    h('span', { ...ids('call-state'), class: 'call-state', text: label('call', cs) }),
    h('span', { class: 'muted', text: t('call.duration') }),
    h('span', { ...ids('call-timer'), class: 'call-timer', role: 'timer', text: callDuration(c) }),
    h('span', { class: 'spacer' }),
    c.state === 'active' ? h('button', { ...ids('call-transfer'), type: 'button', onclick: openTransfer }, t('call.transfer')) : null,
    c.state === 'active' ? h('button', { ...ids('hangup'), type: 'button', class: 'danger', onclick: () => hangup(e) }, t('call.hangup')) : null);
}

function callDuration(c) {
  const from = Date.parse(c.answered_at || c.created_at);
  if (Number.isNaN(from)) return '0:00';
  const to = c.ended_at ? Date.parse(c.ended_at) : Date.now();
  return fmtDuration((to - from) / 1000);
}

function renderConversation() {
  const ol = $('conversation');
  const e = selectedEntry();
  if (!ol || !e) return;
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  ol.textContent = '';
  const items = [
    ...e.messages.map((m) => ({ kind: 'message', ...m })),
    ...e.notes.map((n) => ({ kind: 'note', ...n })),
  ].sort(byTime);
  if (!items.length) ol.append(h('li', { class: 'empty', text: t('conv.empty') }));
  for (const it of items) {
    if (it.kind === 'note') {
      ol.append(h('li', { class: 'note', 'data-note-id': it.id },
        h('div', { class: 'meta' }, h('strong', { text: t('conv.note') }), ` · ${it.agent_name || ''} · ${fmtTime(it.created_at)}`),
        h('div', { class: 'body', text: it.body })));
      continue;
    }
    const out = it.direction === 'outbound';
    const atts = (it.attachments || []).filter((a) => a && a.name);
    ol.append(h('li', { class: `msg ${out ? 'outbound' : 'inbound'}`, 'data-message-id': it.id, 'data-status': it.status || null },
      h('div', { class: 'meta', text: `${out ? t('conv.you') : customerName(e)} · ${fmtTime(it.created_at)}${it.status && out ? ` · ${it.status}` : ''}` }),
      h('div', { class: 'body', text: it.body || '' }),
      atts.length ? h('ul', { class: 'attachments', 'aria-label': t('conv.attachments') }, atts.map((a) => {
        const href = safeURL(a.url);
        const text = `${a.name} (${Math.ceil((a.size || 0) / 1024)} KB)`;
        return h('li', {}, href ? h('a', { href, rel: 'noopener noreferrer', target: '_blank', text }) : h('span', { text }));
      })) : null));
  }
  if (atBottom || ol.dataset.contact !== String(e.contact.id)) ol.scrollTop = ol.scrollHeight;
  ol.dataset.contact = String(e.contact.id);
  renderTyping();
  markRead(e);
}

function renderTyping() {
  const el = $('typing-indicator');
  const e = selectedEntry();
  if (el && e) el.hidden = !(e.typingUntil > Date.now());
}

function markRead(e) {
  const lastIn = [...e.messages].reverse().find((m) => m.direction === 'inbound');
  if (lastIn && lastIn.id !== e.lastRead && document.visibilityState === 'visible') {
    e.lastRead = lastIn.id;
    wsSend('read', { contact_id: e.contact.id, message_id: lastIn.id });
  }
}

function composer(e) {
  const text = e.contact.channel !== 'voice';
  const ta = h('textarea', { ...ids('reply-text'), rows: '3', placeholder: text ? t('reply.placeholder') : t('conv.note') });
  ta.value = e.draft;
  ta.addEventListener('input', () => {
    e.draft = ta.value;
    if (text && Date.now() - e.lastTyping > 3000) {
      e.lastTyping = Date.now();
      wsSend('typing', { contact_id: e.contact.id });
    }
  });
  ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      if (text) sendReply(e); else addNote(e);
    }
  });
  let canned = null;
  if (text) {
    canned = h('select', { ...ids('canned-select'), 'aria-label': t('canned.label') });
    fillCanned(canned);
    canned.addEventListener('change', () => {
      const c = (S.canned || []).find((x) => String(x.id) === canned.value);
      if (!c) return;
      const ins = substitute(c.body, e);
      const s = ta.selectionStart ?? ta.value.length;
      const en = ta.selectionEnd ?? ta.value.length;
      ta.value = ta.value.slice(0, s) + ins + ta.value.slice(en);
      e.draft = ta.value;
      canned.value = '';
      ta.focus();
      ta.setSelectionRange(s + ins.length, s + ins.length);
    });
  }
  return h('form', { class: 'composer', ...ids('composer'), onsubmit: (ev) => { ev.preventDefault(); if (text) sendReply(e); else addNote(e); } },
    h('label', { for: 'reply-text', class: 'visually-hidden', text: text ? t('reply.label') : t('conv.note') }),
    ta,
    h('div', { class: 'composer-actions' },
      canned,
      h('span', { class: 'spacer' }),
      h('button', { ...ids('note-send'), type: 'button', class: text ? 'quiet' : 'primary', onclick: () => addNote(e) }, t('reply.note')),
      text ? h('button', { ...ids('reply-send'), type: 'submit', class: 'primary' }, t('reply.send')) : null));
}

async function sendReply(e) {
  const body = e.draft.trim();
  if (!body) return;
  const btn = $('reply-send');
  if (btn) btn.disabled = true;
  try {
    const r = await api('POST', `/api/v1/contacts/${encodeURIComponent(e.contact.id)}/messages`, { body });
    if (r && r.message) mergeMessages(e, [r.message]);
    e.draft = '';
    if ($('reply-text')) $('reply-text').value = '';
    renderConversation();
  } catch (err) { toastError(err); }
  if (btn) btn.disabled = false;
  if ($('reply-text')) $('reply-text').focus();
}

async function addNote(e) {
  const body = e.draft.trim();
  if (!body) return;
  try {
    const r = await api('POST', `/api/v1/contacts/${encodeURIComponent(e.contact.id)}/notes`, { body });
    if (r && r.note) e.notes = [...e.notes.filter((n) => n.id !== r.note.id), r.note].sort(byTime);
    e.draft = '';
    if ($('reply-text')) $('reply-text').value = '';
    renderConversation();
  } catch (err) { toastError(err); }
}

async function endContact(e) {
  try {
    const r = await api('POST', `/api/v1/contacts/${encodeURIComponent(e.contact.id)}/end`);
    if (r && r.contact) e.contact = { ...e.contact, ...r.contact };
    else e.contact.state = 'wrapup';
  } catch (err) { toastError(err); return; }
  renderContactList();
  renderDetail();
  renderSidebar();
  const d = $('wrapup-disposition');
  if (d) d.focus();
}

async function hangup(e) {
  try {
    await api('POST', `/api/v1/contacts/${encodeURIComponent(e.contact.id)}/hangup`);
  } catch (err) { toastError(err); }
}

// ---------- wrap-up, complaint, feedback ----------

function selectField(id, key, values, prefix) {
  return h('div', { class: 'field' },
    h('label', { for: id, text: t(key) }),
    h('select', { ...ids(id) }, values.map((v) => h('option', { value: v, text: label(prefix, v) }))));
}

function wrapupForm(e) {
  const panel = h('div', { class: 'wrapup-extra' });
  const form = h('form', { class: 'wrapup', ...ids('wrapup-form'), onsubmit: (ev) => { ev.preventDefault(); submitWrapup(e); } },
    h('h3', { text: t('wrapup.heading') }),
    h('div', { class: 'row' },
      selectField('wrapup-disposition', 'wrapup.disposition', ['resolved', 'follow_up', 'no_answer', 'wrong_number', 'other'], 'disp'),
      h('div', { class: 'field grow' },
        h('label', { for: 'wrapup-notes', text: t('wrapup.notes') }),
        h('textarea', { ...ids('wrapup-notes'), rows: '2' }))),
    h('div', { class: 'row actions' },
      h('button', { ...ids('complaint-open'), type: 'button', 'aria-expanded': String(e.panel === 'complaint'), onclick: () => { e.panel = e.panel === 'complaint' ? null : 'complaint'; showExtra(e, panel); } }, t('complaint.open')),
      h('button', { ...ids('feedback-open'), type: 'button', 'aria-expanded': String(e.panel === 'feedback'), onclick: () => { e.panel = e.panel === 'feedback' ? null : 'feedback'; showExtra(e, panel); } }, t('feedback.open')),
      h('span', { class: 'spacer' }),
      h('button', { ...ids('wrapup-submit'), type: 'submit', class: 'primary' }, t('wrapup.submit'))));
  const wrap = h('div', { class: 'wrapup-wrap' }, form, panel);
  showExtra(e, panel);
  return wrap;
}

function showExtra(e, panel) {
  panel.textContent = '';
  for (const id of ['complaint-open', 'feedback-open']) {
    const b = $(id);
    if (b) b.setAttribute('aria-expanded', String(e.panel === id.split('-')[0]));
  }
  if (e.panel === 'complaint') panel.append(complaintForm(e));
  if (e.panel === 'feedback') panel.append(feedbackForm(e));
  const first = panel.querySelector('select, textarea, input');
  if (first && panel.isConnected) first.focus();
}

function complaintForm(e) {
  return h('form', { class: 'subform', ...ids('complaint-form'), onsubmit: async (ev) => {
    ev.preventDefault();
    if (!e.contact.customer_id) { toast(t('complaint.nocustomer'), 'error'); return; }
    try {
      await api('POST', '/api/v1/complaints', {
        customer_id: e.contact.customer_id, contact_id: e.contact.id,
        category: $('complaint-category').value, severity: $('complaint-severity').value,
        description: $('complaint-description').value.trim(),
      });
      toast(t('complaint.done'));
      e.panel = null;
      renderDetail();
      $('complaint-open')?.focus();
    } catch (err) { toastError(err); }
  } },
  h('h4', { text: t('complaint.heading') }),
  h('div', { class: 'row' },
    selectField('complaint-category', 'complaint.category', ['product', 'service_attitude', 'delivery', 'billing', 'other'], 'cat'),
    selectField('complaint-severity', 'complaint.severity', ['critical', 'high', 'normal', 'low'], 'sev')),
  h('div', { class: 'field' }, h('label', { for: 'complaint-description', text: t('complaint.description') }),
    h('textarea', { ...ids('complaint-description'), rows: '2', required: true })),
  h('div', { class: 'row actions' }, h('span', { class: 'spacer' }),
    h('button', { type: 'button', onclick: () => { e.panel = null; renderDetail(); } }, t('common.cancel')),
    h('button', { ...ids('complaint-submit'), type: 'submit', class: 'primary' }, t('complaint.submit'))));
}

function feedbackForm(e) {
  const sel = selectField('feedback-csat', 'feedback.csat', ['5', '4', '3', '2', '1'], 'csat');
  return h('form', { class: 'subform', ...ids('feedback-form'), onsubmit: async (ev) => {
    ev.preventDefault();
    const body = { contact_id: e.contact.id, csat: Number($('feedback-csat').value), comment: $('feedback-comment').value.trim() };
    const nps = $('feedback-nps').value;
    if (nps !== '') body.nps = Number(nps);
    try {
      await api('POST', '/api/v1/feedback', body);
      toast(t('feedback.done'));
      e.panel = null;
      renderDetail();
      $('feedback-open')?.focus();
    } catch (err) { toastError(err); }
  } },
  h('h4', { text: t('feedback.heading') }),
  h('div', { class: 'row' }, sel,
    h('div', { class: 'field' }, h('label', { for: 'feedback-nps', text: t('feedback.nps') }),
      h('input', { ...ids('feedback-nps'), type: 'number', min: '0', max: '10', step: '1', inputmode: 'numeric' }))),
  h('div', { class: 'field' }, h('label', { for: 'feedback-comment', text: t('feedback.comment') }),
    h('textarea', { ...ids('feedback-comment'), rows: '2' })),
  h('div', { class: 'row actions' }, h('span', { class: 'spacer' }),
    h('button', { type: 'button', onclick: () => { e.panel = null; renderDetail(); } }, t('common.cancel')),
    h('button', { ...ids('feedback-submit'), type: 'submit', class: 'primary' }, t('feedback.submit'))));
}

async function submitWrapup(e) {
  const body = { disposition: $('wrapup-disposition').value, notes: $('wrapup-notes').value.trim() };
  try {
    const r = await api('POST', `/api/v1/contacts/${encodeURIComponent(e.contact.id)}/wrapup`, body);
    if (r && r.contact) e.contact = { ...e.contact, ...r.contact };
    toast(t('wrapup.done'));
    removeContact(e.contact.id);
  } catch (err) { toastError(err); }
}

function removeContact(id) {
  S.contacts.delete(id);
  if (S.selected === id) {
    const next = [...S.contacts.values()].sort((a, b) => byTime(a.contact, b.contact))[0];
    S.selected = next ? next.contact.id : null;
  }
  renderContactList();
  renderDetail();
  renderSidebar();
  const cur = document.querySelector('.contact-item[aria-current="true"]');
  if (cur) cur.focus(); else $('contact-list-empty').focus?.();
}

// ---------- sidebar: profile, tags, transfer, timeline ----------

function renderSidebar() {
  const side = $('sidebar');
  const active = document.activeElement && document.activeElement.id;
  const transferOpen = $('transfer') ? $('transfer').open : false;
  side.textContent = '';
  const e = selectedEntry();
  if (!e) return;
  const c = e.contact;
  const p = e.profile;
  const prof = h('section', { class: 'card', ...ids('profile'), 'aria-labelledby': 'profile-name' });
  if (p) {
    prof.append(
      h('div', { class: 'card-head' }, h('h2', { ...ids('profile-name'), text: p.name || t('profile.unknown') }),
        tierBadge(p.tier, 'profile-tier', p.tier_pinned)),
      p.company ? h('p', { class: 'muted', text: `${t('profile.company')}: ${p.company}` }) : null,
      (p.identities || []).length ? h('p', { class: 'muted small', text: `${t('profile.identities')}: ${p.identities.map((i) => i.value).join(', ')}` }) : null,
      p.hint ? h('p', { ...ids('profile-hint'), class: 'hint' }, h('strong', { text: `${t('profile.hint')}: ` }), p.hint) : null,
      profileStats(p, 'profile'),
      profileLists(p, 'profile'));
  } else {
    prof.append(h('div', { class: 'card-head' }, h('h2', { ...ids('profile-name'), text: t('profile.unknown') }), tierBadge('standard', 'profile-tier')),
      h('p', { class: 'identity' }, h('span', { class: 'muted', text: `${t('unknown.identity')}: ` }), (c.from && c.from.value) || ''));
    if (!c.customer_id && c.state !== 'closed') {
      prof.append(unknownCustomerBox(c.from, 'profile', (cust) => {
        e.contact.customer_id = cust.id;
        loadProfile(e);
        loadTimeline(e);
      }));
    }
  }
  side.append(prof);

  // tags
  const tagInput = h('input', { ...ids('tag-input'), type: 'text', placeholder: t('tags.placeholder'), maxlength: '40', autocomplete: 'off', 'aria-label': t('tags.add') });
  side.append(h('section', { class: 'card', ...ids('tags'), 'aria-labelledby': 'tags-heading' },
    h('h3', { id: 'tags-heading', text: t('tags.heading') }),
    e.tags.length
      ? h('ul', { class: 'tag-list', ...ids('tag-list') }, e.tags.map((tag) => h('li', { class: 'tag', 'data-tag': tag },
        h('span', { text: tag }),
        h('button', { type: 'button', class: 'tag-remove', 'aria-label': t('tags.remove', { tag }), title: t('tags.remove', { tag }), onclick: () => saveTags(e, e.tags.filter((x) => x !== tag)) }, '×'))))
      : h('p', { class: 'muted small', text: t('tags.none') }),
    h('form', { class: 'row', onsubmit: (ev) => {
      ev.preventDefault();
      const v = tagInput.value.trim();
      if (v && !e.tags.includes(v)) saveTags(e, [...e.tags, v]);
      tagInput.value = '';
    } }, tagInput, h('button', { ...ids('tag-add'), type: 'submit' }, t('tags.add')))));

  // transfer
  if (c.state === 'active') side.append(transferBox(e, transferOpen));

  // timeline
  const tl = h('section', { class: 'card', 'aria-labelledby': 'timeline-heading' }, h('h3', { id: 'timeline-heading', text: t('timeline.heading') }));
  if (!c.customer_id) tl.append(h('p', { class: 'muted small', text: t('timeline.empty') }));
  else if (!e.timeline) tl.append(h('p', { class: 'muted small', text: t('common.loading') }));
  else if (!e.timeline.length) tl.append(h('p', { class: 'muted small', text: t('timeline.empty') }));
  else {
    tl.append(h('ol', { class: 'timeline', ...ids('timeline') }, e.timeline.map((it) => h('li', { 'data-kind': it.kind },
      h('span', { class: 'tl-kind', text: label('timeline', it.kind) }),
      it.channel ? channelIcon(it.channel) : null,
      h('span', { class: 'tl-at muted', text: fmtDate(it.at) }),
      h('span', { class: 'tl-summary', text: it.summary || '' })))));
  }
  side.append(tl);
  if (active && $(active) && side.contains($(active))) $(active).focus();
}

async function saveTags(e, tags) {
  try {
    const r = await api('PUT', `/api/v1/contacts/${encodeURIComponent(e.contact.id)}/tags`, { tags });
    e.tags = (r && r.tags) || tags;
  } catch (err) { toastError(err); }
  if (S.selected === e.contact.id) {
    renderSidebar();
    $('tag-input')?.focus();
  }
}

function transferBox(e, open) {
  const kind = h('select', { ...ids('transfer-kind') },
    h('option', { value: 'queue', text: t('transfer.queue') }), h('option', { value: 'agent', text: t('transfer.agent') }));
  const target = h('select', { ...ids('transfer-target'), required: true });
  const fill = () => {
    target.textContent = '';
    if (kind.value === 'queue') {
      for (const q of S.queues || []) target.append(h('option', { value: q.name, text: t('transfer.waiting', { name: q.name, n: q.waiting || 0 }) }));
    } else {
      for (const a of S.agents || []) {
        if (S.me && a.id === S.me.id) continue;
        target.append(h('option', { value: String(a.id), text: `${a.display_name || a.name} (${label('state', a.state)})` }));
      }
    }
  };
  kind.addEventListener('change', fill);
  const details = h('details', { class: 'card', ...ids('transfer'), open: open || null },
    h('summary', { text: t('transfer.heading') }),
    h('form', { ...ids('transfer-form'), onsubmit: async (ev) => {
      ev.preventDefault();
      if (!target.value) return;
      const body = { note: $('transfer-note').value.trim() };
      if (kind.value === 'queue') body.queue = target.value; else body.agent_id = Number(target.value);
      try {
        await api('POST', `/api/v1/contacts/${encodeURIComponent(e.contact.id)}/transfer`, body);
        toast(t('transfer.done'));
        removeContact(e.contact.id);
      } catch (err) { toastError(err); }
    } },
    h('div', { class: 'field' }, h('label', { for: 'transfer-kind', text: t('transfer.to') }), kind),
    h('div', { class: 'field' }, h('label', { for: 'transfer-target', text: t('transfer.target') }), target),
    h('div', { class: 'field' }, h('label', { for: 'transfer-note', text: t('transfer.note') }), h('textarea', { ...ids('transfer-note'), rows: '2' })),
    h('button', { ...ids('transfer-submit'), type: 'submit', class: 'primary' }, t('transfer.submit'))));
  details.addEventListener('toggle', async () => {
    if (!details.open) return;
    if (!S.queues || !S.agents) {
      try {
        const [q, a] = await Promise.all([api('GET', '/api/v1/queues'), api('GET', '/api/v1/agents')]);
        S.queues = (q && q.queues) || [];
        S.agents = (a && a.agents) || [];
      } catch (err) { toastError(err); }
    }
    fill();
  });
  if (open) fill();
  return details;
}

function openTransfer() {
  const d = $('transfer');
  if (!d) return;
  d.open = true;
  d.scrollIntoView({ block: 'nearest' });
  $('transfer-kind').focus();
}

// ---------- websocket ----------

function wsSend(type, data) {
  if (S.ws && S.ws.readyState === WebSocket.OPEN) S.ws.send(JSON.stringify({ type, data }));
}

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/agent`;
  let ws;
  try { ws = new WebSocket(url); } catch { scheduleReconnect(); return; }
  S.ws = ws;
  ws.addEventListener('open', () => { S.backoff = 1000; S.conn = 'ok'; renderHeader(); });
  ws.addEventListener('message', (ev) => {
    let env;
    try { env = JSON.parse(ev.data); } catch { return; }
    if (env && typeof env.type === 'string') handle(env.type, env.data || {});
  });
  ws.addEventListener('close', () => {
    if (S.ws !== ws) return;
    S.ws = null;
    S.conn = 'lost';
    renderHeader();
    scheduleReconnect();
  });
}

async function scheduleReconnect() {
  const wait = S.backoff;
  S.backoff = Math.min(S.backoff * 2, 15000);
  setTimeout(async () => {
    try {
      await api('GET', '/api/v1/me'); // 401 → login page
    } catch (e) {
      if (e.status === 401) return;
    }
    connect();
  }, wait + Math.random() * 500);
}

const handlers = {
  hello(d) {
    if (d.agent) S.me = { ...(S.me || {}), ...d.agent };
    S.agent = { state: d.state || 'offline', reason: d.reason || '', since: d.since, phone_registered: !!d.phone_registered };
    const keep = new Map(S.contacts);
    S.contacts.clear();
    for (const c of d.contacts || []) {
      const old = keep.get(c.id);
      if (old) { old.contact = c; S.contacts.set(c.id, old); } else entryFor(c);
    }
    S.offers.clear();
    for (const o of d.offers || []) addOffer(o);
    if (S.selected != null && !S.contacts.has(S.selected)) S.selected = null;
    renderAll();
    if (S.selected == null && S.contacts.size) select([...S.contacts.keys()][0]);
  },
  agent_state(d) {
    S.agent = { ...S.agent, ...d, phone_registered: !!d.phone_registered };
    renderHeader();
  },
  offer(d) {
    addOffer(d);
    renderOffer();
  },
  offer_withdrawn(d) {
    if (!S.offers.delete(d.offer_id)) return;
    const key = `offer.withdrawn.${d.reason}`;
    toast(t('offer.withdrawn', { reason: has(key) ? t(key) : (d.reason || '') }));
    renderOffer();
  },
  contact_assigned(d) {
    if (!d.contact) return;
    for (const [id, o] of S.offers) if (o.offer.contact && o.offer.contact.id === d.contact.id) S.offers.delete(id);
    const e = entryFor(d.contact);
    if (d.profile) e.profile = d.profile;
    mergeMessages(e, d.messages);
    renderOffer();
    if (S.selected == null) select(e.contact.id); else renderContactList();
  },
  contact_updated(d) {
    const c = d.contact;
    if (!c) return;
    if (c.state === 'closed' || c.state === 'abandoned') {
      if (S.contacts.has(c.id)) removeContact(c.id);
      return;
    }
    const e = S.contacts.get(c.id);
    if (!e) return;
    const was = e.contact.state;
    e.contact = { ...e.contact, ...c };
    if (c.customer_id && !e.profile) loadProfile(e);
    renderContactList();
    if (S.selected === c.id) {
      if (was !== c.state) { renderDetail(); renderSidebar(); } else {
        renderDetailHead();
        const cp = $('call-panel');
        if (cp) cp.replaceWith(callPanel(e));
      }
    }
  },
  message(d) {
    const m = d.message;
    if (!m) return;
    const e = S.contacts.get(m.contact_id);
    if (!e) return;
    const known = e.messages.some((x) => x.id === m.id);
    mergeMessages(e, [m]);
    if (m.direction === 'inbound') e.typingUntil = 0;
    if (S.selected === e.contact.id) renderConversation();
    else if (!known && m.direction === 'inbound') { e.unread++; renderContactList(); }
  },
  typing(d) {
    const e = S.contacts.get(d.contact_id);
    if (!e) return;
    e.typingUntil = Date.now() + 5000;
    if (S.selected === e.contact.id) renderTyping();
  },
  contact_closed(d) {
    if (S.contacts.has(d.contact_id)) removeContact(d.contact_id);
  },
  error(d) {
    toast(t('common.error', { error: d.message || '' }), 'error');
  },
};

function handle(type, data) {
  const f = handlers[type];
  if (f) f(data);
}

// ---------- boot ----------

function renderAll() {
  renderHeader();
  renderOffer();
  renderContactList();
  renderDetail();
  renderSidebar();
}

function tick() {
  tickOffer();
  const e = selectedEntry();
  if (e && e.contact.channel === 'voice' && $('call-timer')) $('call-timer').textContent = callDuration(e.contact);
  renderTyping();
}

function shortcuts(ev) {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const cur = currentOffer();
  if (!cur) return;
  if (ev.code === 'KeyA') { ev.preventDefault(); acceptOffer(cur.offer.offer_id); }
  if (ev.code === 'KeyD') { ev.preventDefault(); declineOffer(cur.offer.offer_id); }
}

async function boot() {
  applyI18n(document);
  bindLangSelect($('lang-select'));
  onLangChange(() => renderAll());
  $('state-select').addEventListener('change', changeState);
  $('away-reason').addEventListener('change', changeState);
  $('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/v1/logout', undefined, { noRedirect: true }); } catch { /* leave anyway */ }
    location.assign('/login');
  });
  document.addEventListener('keydown', shortcuts);
  document.addEventListener('visibilitychange', () => { const e = selectedEntry(); if (e) markRead(e); });
  renderAll();
  try {
    const r = await api('GET', '/api/v1/me', undefined, { noRedirect: true });
    S.me = r.user;
  } catch (e) {
    if (e.status === 401) { location.replace(loginURL()); return; }
    toastError(e);
  }
  renderHeader();
  connect();
  setInterval(tick, 250);
}

boot();
