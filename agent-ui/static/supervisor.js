// supervisor.js: the supervisors' live board. Frames arrive on /ws/supervisor
// ({"type":"board","data":board.Frame} every second); actions and reports use
// /api/v1/board/* and /api/v1/reports/*. Every text goes in with textContent.
import { api, APIError, loginURL } from '/ui/api.js';

const DICT = {
  en: {
    'app.title': 'ContactHub supervisor board', 'app.name': 'ContactHub', 'skip.main': 'Skip to the board',
    'tab.board': 'Live board', 'tab.reports': 'Reports', 'lang.label': 'Language',
    'conn.live': 'Live', 'conn.connecting': 'Connecting…', 'conn.lost': 'Disconnected — retrying', 'updated': 'Updated {t}',
    'kpi.waiting': 'Waiting', 'kpi.longest': 'Longest wait', 'kpi.sl15': 'Service level (15 min)', 'kpi.sl': 'Service level (today)',
    'kpi.offered': 'Offered today', 'kpi.answered': 'Answered today', 'kpi.abandon': 'Abandoned today', 'kpi.asa': 'ASA today',
    'kpi.aht': 'AHT today', 'kpi.occ': 'Occupancy today', 'kpi.agents': 'Agents staffed',
    'queues.title': 'Queues', 'tiers.title': 'Tiers', 'period.label': 'Figures for', 'period.recent': 'last 15 minutes', 'period.today': 'today',
    'col.queue': 'Queue', 'col.tier': 'Tier', 'col.waiting': 'Waiting', 'col.longest': 'Longest', 'col.staffed': 'Staffed',
    'col.available': 'Avail.', 'col.busy': 'Busy', 'col.wrapup': 'Wrap-up', 'col.away': 'Away', 'col.offered': 'Offered',
    'col.answered': 'Answered', 'col.abandoned': 'Aband.', 'col.sl': 'SL', 'col.asa': 'ASA', 'col.aht': 'AHT',
    'col.abrate': 'Aband. %', 'col.occ': 'Occ.', 'col.agent': 'Agent', 'col.state': 'State', 'col.time': 'In state',
    'col.contacts': 'Contacts', 'col.handled': 'Handled', 'col.customer': 'Customer', 'col.channel': 'Channel', 'col.wait': 'Wait',
    'col.id': '#', 'col.category': 'Category', 'col.severity': 'Severity', 'col.status': 'Status', 'col.due': 'Due',
    'waiting.title': 'Waiting contacts', 'waiting.none': 'Nobody is waiting.', 'agents.none': 'No agents.', 'overdue.none': 'No overdue complaints.',
    'move.title': 'Move a waiting contact', 'move.contact': 'Contact', 'move.to': 'To', 'move.submit': 'Move',
    'move.priority': "Changing a contact's priority is not offered: routing has no API for it yet.",
    'move.queue': 'Queue {q}', 'move.agent': 'Agent {a}',
    'agents.title': 'Agents', 'act.title': 'Agent actions', 'act.agent': 'Agent', 'act.state': 'State', 'act.reason': 'Reason',
    'act.apply': 'Set state', 'act.endwrap': 'End wrap-up', 'act.score': 'Evaluation (0–100)', 'act.comment': 'Comment',
    'act.evaluate': 'Save evaluation', 'act.done': 'Done.', 'act.failed': 'Failed: {e}',
    'overdue.title': 'Overdue complaints', 'overdue.pushed': '{n} complaint(s) just went overdue',
    'chart.intervals': 'Contacts and service level per 15 minutes (today)', 'chart.mix': 'Contacts today by tier and channel',
    'chart.csat': 'CSAT trend (14 days)', 'chart.complaints': 'Complaints by category', 'chart.empty': 'No data yet.',
    'chart.offered': 'offered', 'chart.answered': 'answered', 'chart.sl': 'service level', 'chart.open': 'open', 'chart.today': 'new today',
    'state.available': 'Available', 'state.away': 'Away', 'state.offline': 'Offline', 'state.busy': 'Busy', 'state.reserved': 'Ringing',
    'state.wrapup': 'Wrap-up',
    'ch.voice': 'Voice', 'ch.chat': 'Chat', 'ch.email': 'Email', 'ch.sms': 'SMS',
    'cat.product': 'Product', 'cat.service_attitude': 'Service attitude', 'cat.delivery': 'Delivery', 'cat.billing': 'Billing', 'cat.other': 'Other',
    'sev.critical': 'Critical', 'sev.high': 'High', 'sev.normal': 'Normal', 'sev.low': 'Low',
    'st.open': 'Open', 'st.acknowledged': 'Acknowledged', 'st.in_progress': 'In progress', 'st.resolved': 'Resolved', 'st.closed': 'Closed',
    'tier.platinum': 'Platinum', 'tier.gold': 'Gold', 'tier.silver': 'Silver', 'tier.bronze': 'Bronze', 'tier.standard': 'Standard',
    'rep.kind': 'Report', 'rep.intervals': 'Interval report per queue', 'rep.agents': 'Agent evaluation', 'rep.complaints': 'Complaint statistics',
    'rep.from': 'From', 'rep.to': 'To', 'rep.queue': 'Queue', 'rep.show': 'Show', 'rep.csv': 'Download CSV', 'rep.empty': 'No rows.',
    'rep.note': 'Agent score = attendance 10 % + customer evaluation (CSAT) 20 % + supervisor evaluation 30 % + problem solving 40 % (first-contact resolution 40 %, post-service feedback 60 %). Missing parts are left out and the rest re-weighted.',
    'col.fcr': 'FCR', 'col.csat': 'CSAT', 'col.attendance': 'Attendance', 'col.custscore': 'Customer', 'col.supscore': 'Supervisor',
    'col.problem': 'Problem solving', 'col.score': 'Score', 'col.total': 'Total', 'col.open': 'Open', 'col.resolved': 'Resolved',
    'col.overdue': 'Overdue', 'col.avgh': 'Avg. hours to resolve', 'col.satisfied': 'Satisfied',
    'all': 'All', 'breach': 'breach',
  },
  zh: {
    'app.title': 'ContactHub 班长监控台', 'app.name': 'ContactHub', 'skip.main': '跳到监控台',
    'tab.board': '实时监控', 'tab.reports': '报表', 'lang.label': '语言',
    'conn.live': '实时', 'conn.connecting': '连接中…', 'conn.lost': '连接断开，正在重试', 'updated': '更新于 {t}',
    'kpi.waiting': '排队中', 'kpi.longest': '最长等待', 'kpi.sl15': '服务水平（15 分钟）', 'kpi.sl': '服务水平（今日）',
    'kpi.offered': '今日进线', 'kpi.answered': '今日接通', 'kpi.abandon': '今日放弃', 'kpi.asa': '今日平均应答',
    'kpi.aht': '今日平均处理', 'kpi.occ': '今日占用率', 'kpi.agents': '在岗坐席',
    'queues.title': '队列', 'tiers.title': '客户等级', 'period.label': '统计区间', 'period.recent': '最近 15 分钟', 'period.today': '今日',
    'col.queue': '队列', 'col.tier': '等级', 'col.waiting': '排队', 'col.longest': '最长', 'col.staffed': '在岗',
    'col.available': '空闲', 'col.busy': '通话', 'col.wrapup': '整理', 'col.away': '离开', 'col.offered': '进线',
    'col.answered': '接通', 'col.abandoned': '放弃', 'col.sl': '服务水平', 'col.asa': '平均应答', 'col.aht': '平均处理',
    'col.abrate': '放弃率', 'col.occ': '占用率', 'col.agent': '坐席', 'col.state': '状态', 'col.time': '持续',
    'col.contacts': '当前会话', 'col.handled': '已处理', 'col.customer': '客户', 'col.channel': '渠道', 'col.wait': '等待',
    'col.id': '编号', 'col.category': '类别', 'col.severity': '严重度', 'col.status': '状态', 'col.due': '期限',
    'waiting.title': '排队客户', 'waiting.none': '当前无人排队。', 'agents.none': '没有坐席。', 'overdue.none': '没有超期投诉。',
    'move.title': '转移排队客户', 'move.contact': '客户', 'move.to': '转到', 'move.submit': '转移',
    'move.priority': '暂不支持修改优先级：路由引擎尚无此接口。', 'move.queue': '队列 {q}', 'move.agent': '坐席 {a}',
    'agents.title': '坐席', 'act.title': '坐席操作', 'act.agent': '坐席', 'act.state': '状态', 'act.reason': '原因',
    'act.apply': '设置状态', 'act.endwrap': '结束整理', 'act.score': '评价（0–100）', 'act.comment': '备注',
    'act.evaluate': '保存评价', 'act.done': '已完成。', 'act.failed': '失败：{e}',
    'overdue.title': '超期投诉', 'overdue.pushed': '{n} 条投诉刚刚超期',
    'chart.intervals': '今日每 15 分钟进线量与服务水平', 'chart.mix': '今日按等级和渠道的进线量',
    'chart.csat': '满意度趋势（14 天）', 'chart.complaints': '按类别的投诉', 'chart.empty': '暂无数据。',
    'chart.offered': '进线', 'chart.answered': '接通', 'chart.sl': '服务水平', 'chart.open': '未结', 'chart.today': '今日新增',
    'state.available': '空闲', 'state.away': '离开', 'state.offline': '离线', 'state.busy': '忙碌', 'state.reserved': '振铃',
    'state.wrapup': '话后整理',
    'ch.voice': '语音', 'ch.chat': '在线聊天', 'ch.email': '邮件', 'ch.sms': '短信',
    'cat.product': '产品', 'cat.service_attitude': '服务态度', 'cat.delivery': '配送', 'cat.billing': '账单', 'cat.other': '其他',
    'sev.critical': '紧急', 'sev.high': '高', 'sev.normal': '一般', 'sev.low': '低',
    'st.open': '待处理', 'st.acknowledged': '已受理', 'st.in_progress': '处理中', 'st.resolved': '已解决', 'st.closed': '已关闭',
    'tier.platinum': '白金', 'tier.gold': '黄金', 'tier.silver': '白银', 'tier.bronze': '青铜', 'tier.standard': '普通',
    'rep.kind': '报表', 'rep.intervals': '队列时段报表', 'rep.agents': '坐席考评', 'rep.complaints': '投诉统计',
    'rep.from': '开始', 'rep.to': '结束', 'rep.queue': '队列', 'rep.show': '查询', 'rep.csv': '下载 CSV', 'rep.empty': '没有数据。',
    'rep.note': '坐席得分 = 出勤 10 % + 客户评价（满意度）20 % + 班长评价 30 % + 问题解决 40 %（首次解决率 40 %，服务后反馈 60 %）。缺少的部分不计，其余按比例加权。',
    'col.fcr': '首次解决率', 'col.csat': '满意度', 'col.attendance': '出勤', 'col.custscore': '客户评价', 'col.supscore': '班长评价',
    'col.problem': '问题解决', 'col.score': '得分', 'col.total': '总数', 'col.open': '未结', 'col.resolved': '已解决',
    'col.overdue': '超期', 'col.avgh': '平均解决时长（小时）', 'col.satisfied': '满意率',
    'all': '全部', 'breach': '超标',
  },
};

let lang = localStorage.getItem('ch.lang') || ((navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en');
if (!DICT[lang]) lang = 'en';

function t(key, vars) {
  let s = (DICT[lang] && DICT[lang][key]) ?? DICT.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace('{' + k + '}', String(v));
  return s;
}
const tr = (prefix, v) => (DICT.en[prefix + v] !== undefined ? t(prefix + v) : v);

function applyI18n() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.title = t('app.title');
}

const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

const pct = (v) => (v == null ? '–' : Math.round(v * 100) + '%');
function dur(ms) {
  if (ms == null) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + String(s % 60).padStart(2, '0') + 's';
  return Math.floor(m / 60) + 'h ' + String(m % 60).padStart(2, '0') + 'm';
}
const hhmm = (d) => new Date(d).toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit' });

function toast(msg, bad) {
  const e = $('toast');
  e.textContent = msg;
  e.classList.toggle('bad', !!bad);
  e.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { e.hidden = true; }, 4000);
}

// table renders head + rows; each row is [cells, className]. A cell is text or {text, cls}.
function table(tbl, head, rows, emptyKey) {
  tbl.replaceChildren();
  const thead = el('thead');
  const hr = el('tr');
  for (const h of head) hr.append(el('th', { scope: 'col', text: t(h) }));
  thead.append(hr);
  const tb = el('tbody');
  if (!rows.length && emptyKey) {
    tb.append(el('tr', {}, el('td', { colspan: String(head.length), class: 'empty', text: t(emptyKey) })));
  }
  for (const [cells, cls, attrs] of rows) {
    const r = el('tr', { class: cls || '', ...(attrs || {}) });
    for (const c of cells) {
      if (c && typeof c === 'object' && !(c instanceof Node)) r.append(el('td', { class: c.cls || '', text: String(c.text) }));
      else r.append(el('td', {}, c instanceof Node ? c : String(c)));
    }
    tb.append(r);
  }
  tbl.append(thead, tb);
}

let frame = null;

function kpi(label, value, cls, id) {
  return el('div', { class: 'kpi ' + (cls || ''), 'data-testid': id }, el('span', { class: 'kpi-label', text: label }), el('span', { class: 'kpi-value', text: value }));
}

function render() {
  const f = frame;
  if (!f) return;
  $('updated').textContent = t('updated', { t: new Date(f.at).toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en-GB') });
  const period = $('period').value;
  let waiting = 0, longest = 0, staffed = 0, target = 0.8;
  for (const q of f.queues || []) { waiting += q.live.waiting; longest = Math.max(longest, q.live.longest_ms); target = q.target || target; }
  for (const a of f.agents || []) if (a.state !== 'offline') staffed++;
  const slBad = (v) => (v < target ? 'bad' : 'good');
  $('kpis').replaceChildren(
    kpi(t('kpi.waiting'), waiting, waiting > 0 ? 'warn' : '', 'kpi-waiting'),
    kpi(t('kpi.longest'), dur(longest), '', 'kpi-longest'),
    kpi(t('kpi.sl15'), pct(f.recent.service_level), slBad(f.recent.service_level), 'kpi-sl15'),
    kpi(t('kpi.sl'), pct(f.today.service_level), slBad(f.today.service_level), 'kpi-sl'),
    kpi(t('kpi.offered'), f.today.offered, '', 'kpi-offered'),
    kpi(t('kpi.answered'), f.today.answered, '', 'kpi-answered'),
    kpi(t('kpi.abandon'), f.today.abandoned + ' (' + pct(f.today.abandon_rate) + ')', '', 'kpi-abandoned'),
    kpi(t('kpi.asa'), dur(f.today.asa_ms), '', 'kpi-asa'),
    kpi(t('kpi.aht'), dur(f.today.aht_ms), '', 'kpi-aht'),
    kpi(t('kpi.occ'), pct(f.today.occupancy), '', 'kpi-occ'),
    kpi(t('kpi.agents'), staffed, '', 'kpi-agents'),
  );
  const figCells = (x) => [x.offered, x.answered, x.abandoned, { text: pct(x.service_level), cls: 'sl' }, dur(x.asa_ms), dur(x.aht_ms), pct(x.abandon_rate)];
  const liveCells = (l) => [l.waiting, dur(l.longest_ms), l.staffed, l.available, l.busy, l.wrapup, l.away];
  const head = ['col.waiting', 'col.longest', 'col.staffed', 'col.available', 'col.busy', 'col.wrapup', 'col.away',
    'col.offered', 'col.answered', 'col.abandoned', 'col.sl', 'col.asa', 'col.aht', 'col.abrate'];
  table($('queues'), ['col.queue', ...head, 'col.occ'], (f.queues || []).map((q) => {
    const x = q[period];
    return [[q.name, ...liveCells(q.live), ...figCells(x), pct(x.occupancy)], q.breach ? 'breach' : '', { 'data-queue': q.name }];
  }));
  table($('tiers'), ['col.tier', 'col.waiting', 'col.longest', 'col.offered', 'col.answered', 'col.abandoned', 'col.sl', 'col.asa', 'col.aht', 'col.abrate'],
    (f.tiers || []).map((x) => [[tr('tier.', x.name), x.live.waiting, dur(x.live.longest_ms), ...figCells(x[period])], '']));

  $('waiting-count').textContent = (f.waiting || []).length;
  table($('waiting'), ['col.id', 'col.customer', 'col.tier', 'col.channel', 'col.queue', 'col.wait'], (f.waiting || []).map((w) =>
    [[w.id, w.customer || '–', tr('tier.', w.tier), tr('ch.', w.channel), w.queue, { text: dur(w.wait_ms), cls: w.breach ? 'bad' : '' }],
      w.breach ? 'breach' : '', { 'data-contact': String(w.id) }]), 'waiting.none');

  table($('agents'), ['col.agent', 'col.state', 'col.time', 'col.contacts', 'col.queue', 'col.handled', 'col.occ'], (f.agents || []).map((a) => {
    const st = el('span', { class: 'badge st-' + a.state, 'data-testid': 'agent-state-' + a.id, text: tr('state.', a.state) + (a.reason ? ' · ' + a.reason : '') });
    const cs = (a.contacts || []).map((c) => '#' + c.id + ' ' + tr('ch.', c.channel) + ' ' + dur(c.since_ms)).join(', ') + (a.wrapup_contact ? ' (#' + a.wrapup_contact + ')' : '');
    return [[a.display_name || a.name, st, dur(a.in_state_ms), cs || '–', (a.queues || []).join(', '), a.handled, pct(a.occupancy)], '', { 'data-agent': String(a.id) }];
  }), 'agents.none');

  $('overdue-count').textContent = (f.overdue_complaints || []).length;
  table($('overdue'), ['col.id', 'col.category', 'col.severity', 'col.status', 'col.due'], (f.overdue_complaints || []).map((c) =>
    [[c.id, tr('cat.', c.category), tr('sev.', c.severity), tr('st.', c.status), new Date(c.due_at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB')], 'breach']), 'overdue.none');

  syncSelect($('act-agent'), (f.agents || []).map((a) => [String(a.id), (a.display_name || a.name) + ' (' + tr('state.', a.state) + ')']));
  syncSelect($('move-contact'), (f.waiting || []).map((w) => [String(w.id), '#' + w.id + ' ' + (w.customer || '') + ' · ' + w.queue]));
  syncSelect($('move-to'), [...(f.queues || []).map((q) => ['q:' + q.name, t('move.queue', { q: q.name })]),
    ...(f.agents || []).filter((a) => a.state !== 'offline').map((a) => ['a:' + a.id, t('move.agent', { a: a.display_name || a.name })])]);
  charts(f);
}

// syncSelect replaces options only when they changed, keeping the selection and focus.
function syncSelect(sel, opts) {
  const key = JSON.stringify(opts);
  if (sel.dataset.key === key) return;
  const keep = sel.value;
  sel.replaceChildren(...opts.map(([v, label]) => el('option', { value: v, text: label })));
  if (opts.some(([v]) => v === keep)) sel.value = keep;
  sel.dataset.key = key;
}

// --- charts: small hand-drawn SVG ---
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = String(text);
  return e;
}
function chartBox(holder, w, h, label) {
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'xMidYMid meet' });
  holder.replaceChildren(s);
  return s;
}
function empty(holder) { holder.replaceChildren(el('p', { class: 'empty', text: t('chart.empty') })); }

function legend(s, x, y, items) {
  for (const [color, label] of items) {
    s.append(svg('rect', { x, y: y - 8, width: 10, height: 10, fill: color }));
    s.append(svg('text', { x: x + 14, y, class: 'lbl' }, label));
    x += 24 + [...label].reduce((w, ch) => w + (ch.charCodeAt(0) > 255 ? 11 : 6), 0);
  }
}

function charts(f) {
  const iv = (f.charts && f.charts.intervals) || [];
  const hi = $('chart-intervals');
  if (!iv.some((x) => x.offered || x.answered)) empty(hi);
  else {
    const W = 640, H = 170, L = 30, B = 20, top = 16;
    const s = chartBox(hi, W, H, t('chart.intervals'));
    const pts = iv.slice(-48);
    const maxN = Math.max(1, ...pts.map((x) => x.offered));
    const bw = (W - L - 30) / pts.length;
    s.append(svg('line', { x1: L, y1: H - B, x2: W - 30, y2: H - B, class: 'axis' }));
    s.append(svg('text', { x: 2, y: top + 4, class: 'lbl' }, maxN));
    s.append(svg('text', { x: W - 28, y: top + 4, class: 'lbl' }, '100%'));
    let path = '';
    pts.forEach((x, i) => {
      const bx = L + i * bw, bh = ((H - B - top) * x.offered) / maxN;
      s.append(svg('rect', { x: bx + 1, y: H - B - bh, width: Math.max(1, bw - 2), height: bh, class: 'bar' }));
      const ah = ((H - B - top) * x.answered) / maxN;
      s.append(svg('rect', { x: bx + bw / 4, y: H - B - ah, width: Math.max(1, bw / 2 - 1), height: ah, class: 'bar2' }));
      const sy = H - B - (H - B - top) * x.service_level;
      if (x.answered + x.abandoned_after_sl > 0) { // no service level without answers or late abandons
        path += (path ? 'L' : 'M') + (bx + bw / 2).toFixed(1) + ' ' + sy.toFixed(1);
        s.append(svg('circle', { cx: (bx + bw / 2).toFixed(1), cy: sy.toFixed(1), r: 2.5, class: 'dot' }));
      }
      if (i % Math.ceil(pts.length / 8) === 0) s.append(svg('text', { x: bx, y: H - 5, class: 'lbl' }, hhmm(x.start)));
    });
    if (path) s.append(svg('path', { d: path, class: 'line' }));
    legend(s, L + 4, 12, [['#9db8e3', t('chart.offered')], ['#1f5fbf', t('chart.answered')], ['#1a7f37', t('chart.sl')]]);
  }
  const hm = $('chart-mix');
  const rows = [...(f.tiers || []).map((x) => [tr('tier.', x.name), x.today.offered, 'bar']),
    ...Object.entries(f.channels_today || {}).map(([k, x]) => [tr('ch.', k), x.offered, 'bar3'])];
  if (!rows.some((r) => r[1] > 0)) empty(hm);
  else hbars(hm, rows, t('chart.mix'));
  const hc = $('chart-csat');
  const cs = (f.charts && f.charts.csat_trend) || [];
  if (!cs.length) empty(hc);
  else {
    const W = 320, H = 150, L = 24, B = 20;
    const s = chartBox(hc, W, H, t('chart.csat'));
    for (const v of [1, 3, 5]) {
      const y = H - B - ((H - B - 10) * (v - 1)) / 4;
      s.append(svg('line', { x1: L, y1: y, x2: W - 6, y2: y, class: 'grid' }));
      s.append(svg('text', { x: 4, y: y + 4, class: 'lbl' }, v));
    }
    const step = cs.length > 1 ? (W - L - 16) / (cs.length - 1) : 0;
    let d = '';
    cs.forEach((p, i) => {
      const x = L + 6 + i * step, y = H - B - ((H - B - 10) * (p.avg - 1)) / 4;
      d += (i ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
      s.append(svg('circle', { cx: x, cy: y, r: 3, class: 'dot' }, null));
      if (i === 0 || i === cs.length - 1) s.append(svg('text', { x: Math.min(x - 10, W - 40), y: H - 5, class: 'lbl' }, p.day.slice(5)));
    });
    s.append(svg('path', { d, class: 'line' }));
  }
  const hk = $('chart-complaints');
  const cc = (f.charts && f.charts.complaints_by_category) || [];
  if (!cc.length) empty(hk);
  else hbars(hk, cc.flatMap((c) => [[tr('cat.', c.category) + ' · ' + t('chart.open'), c.open, c.overdue ? 'bad' : 'bar'], [tr('cat.', c.category) + ' · ' + t('chart.today'), c.today, 'bar3']]), t('chart.complaints'));
}

function hbars(holder, rows, label) {
  const W = 320, row = 16, H = rows.length * row + 6, L = 130;
  const s = chartBox(holder, W, H, label);
  const max = Math.max(1, ...rows.map((r) => r[1]));
  rows.forEach(([name, n, cls], i) => {
    const y = 3 + i * row;
    s.append(svg('text', { x: 2, y: y + 11, class: 'lbl' }, name));
    s.append(svg('rect', { x: L, y: y + 2, width: Math.max(1, ((W - L - 36) * n) / max), height: row - 5, class: cls }));
    s.append(svg('text', { x: L + ((W - L - 36) * n) / max + 4, y: y + 11, class: 'lbl' }, n));
  });
}

// --- websocket ---
let backoff = 500;
function connect() {
  const c = $('conn');
  c.textContent = t('conn.connecting');
  c.dataset.state = 'connecting';
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/supervisor');
  ws.onopen = () => { backoff = 500; c.textContent = t('conn.live'); c.dataset.state = 'live'; };
  ws.onmessage = (m) => {
    let e;
    try { e = JSON.parse(m.data); } catch { return; }
    if (e.type === 'board') { frame = e.data; render(); }
    else if (e.type === 'overdue_complaints') toast(t('overdue.pushed', { n: (e.data.complaints || []).length }), true);
  };
  ws.onclose = async (ev) => {
    c.textContent = t('conn.lost');
    c.dataset.state = 'lost';
    if (ev.code === 1006 || ev.code === 1008) {
      try { await api('GET', '/api/v1/me'); } catch (err) { if (err instanceof APIError && err.status === 401) return; }
    }
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

async function act(fn) {
  try { await fn(); toast(t('act.done')); } catch (e) { toast(t('act.failed', { e: e.message }), true); }
}

function setup() {
  applyI18n();
  $('lang').value = lang;
  $('lang').addEventListener('change', () => {
    lang = $('lang').value;
    localStorage.setItem('ch.lang', lang);
    applyI18n();
    const c = $('conn');
    c.textContent = t({ live: 'conn.live', lost: 'conn.lost' }[c.dataset.state] || 'conn.connecting');
    for (const s of document.querySelectorAll('select')) delete s.dataset.key;
    render();
  });
  $('period').addEventListener('change', render);
  for (const [tab, view] of [['tab-board', 'view-board'], ['tab-reports', 'view-reports']]) {
    $(tab).addEventListener('click', () => {
      for (const [t2, v2] of [['tab-board', 'view-board'], ['tab-reports', 'view-reports']]) {
        $(t2).setAttribute('aria-selected', String(t2 === tab));
        $(v2).hidden = v2 !== view;
      }
    });
  }
  $('agent-form').addEventListener('submit', (e) => {
    e.preventDefault();
    act(() => api('POST', `/api/v1/board/agents/${$('act-agent').value}/state`, { state: $('act-state').value, reason: $('act-reason').value }));
  });
  $('act-endwrap').addEventListener('click', () => act(() => api('POST', `/api/v1/board/agents/${$('act-agent').value}/end-wrapup`)));
  $('act-evaluate').addEventListener('click', () => act(() => api('POST', '/api/v1/board/evaluations',
    { agent_id: Number($('act-agent').value), score: Number($('act-score').value), comment: $('act-comment').value })));
  $('move-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const to = $('move-to').value;
    const body = to.startsWith('q:') ? { queue: to.slice(2) } : { agent_id: Number(to.slice(2)) };
    act(() => api('POST', `/api/v1/board/contacts/${$('move-contact').value}/move`, body));
  });
  const today = new Date();
  const iso = (d) => d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  $('rep-from').value = iso(today);
  $('rep-to').value = iso(today);
  const repURL = (csv) => {
    const p = new URLSearchParams({ from: $('rep-from').value, to: $('rep-to').value });
    if ($('rep-queue').value && $('rep-kind').value === 'intervals') p.set('queue', $('rep-queue').value);
    if (csv) p.set('format', 'csv');
    return `/api/v1/reports/${$('rep-kind').value}?` + p;
  };
  $('rep-csv').addEventListener('click', (e) => { e.preventDefault(); location.assign(repURL(true)); });
  $('report-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try { showReport($('rep-kind').value, await api('GET', repURL(false))); } catch (err) { toast(t('act.failed', { e: err.message }), true); }
  });
  connect();
}

function showReport(kind, d) {
  const n = (v) => (v == null ? '–' : typeof v === 'number' ? String(Math.round(v * 10) / 10) : v);
  if (kind === 'intervals') {
    table($('report'), ['col.time', 'col.queue', 'col.offered', 'col.answered', 'col.abandoned', 'col.sl', 'col.asa', 'col.aht', 'col.abrate', 'col.occ'],
      d.intervals.filter((r) => r.offered || r.answered || r.abandoned || r.handled).map((r) => [[new Date(r.start).toLocaleString(), r.queue || t('all'), r.offered, r.answered, r.abandoned, pct(r.service_level), dur(r.asa_ms), dur(r.aht_ms), pct(r.abandon_rate), pct(r.occupancy)], '']), 'rep.empty');
  } else if (kind === 'agents') {
    table($('report'), ['col.agent', 'col.handled', 'col.fcr', 'col.csat', 'col.occ', 'col.attendance', 'col.custscore', 'col.supscore', 'col.problem', 'col.score'],
      d.agents.map((a) => [[a.display_name || a.name, a.closed, pct(a.fcr_rate), n(a.csat_avg), pct(a.occupancy), n(a.attendance_score), n(a.customer_score), n(a.supervisor_score), n(a.problem_solving_score), n(a.score)], '']), 'rep.empty');
  } else {
    table($('report'), ['col.category', 'col.severity', 'col.total', 'col.open', 'col.resolved', 'col.overdue', 'col.avgh', 'col.satisfied'],
      d.stats.map((s) => [[s.category ? tr('cat.', s.category) : (s.severity ? '' : t('all')), s.severity ? tr('sev.', s.severity) : '', s.total, s.open, s.resolved, s.overdue, n(s.avg_hours_to_resolve), pct(s.satisfied_rate)], '']), 'rep.empty');
  }
}

setup();
export { DICT, loginURL };
