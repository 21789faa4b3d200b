// login.js: the sign-in page. POST /api/v1/login, then go to ?next= or /agent.
import { api, safeNext } from '/ui/api.js';
import { t, applyI18n, bindLangSelect } from '/ui/i18n.js';

const form = document.getElementById('login-form');
const nameEl = document.getElementById('login-name');
const passEl = document.getElementById('login-password');
const errEl = document.getElementById('login-error');
const submit = document.getElementById('login-submit');
let lastError = null; // {key, vars}, re-rendered on language change

function showError(key, vars) {
  lastError = key ? { key, vars } : null;
  errEl.hidden = !key;
  errEl.textContent = key ? t(key, vars) : '';
}

applyI18n(document);
bindLangSelect(document.getElementById('lang-select'));
document.getElementById('lang-select').addEventListener('change', () => {
  if (lastError) showError(lastError.key, lastError.vars);
});

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = nameEl.value.trim();
  const password = passEl.value;
  if (!name || !password) {
    showError('login.invalid');
    (name ? passEl : nameEl).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = t('login.busy');
  try {
    await api('POST', '/api/v1/login', { name, password }, { noRedirect: true });
    const next = new URLSearchParams(location.search).get('next');
    location.assign(safeNext(next));
    return;
  } catch (e) {
    if (e.status === 401) showError('login.invalid');
    else if (e.status === 429) showError('login.throttled');
    else showError('login.failed', { error: e.message });
    passEl.select();
    passEl.focus();
  } finally {
    submit.disabled = false;
    submit.textContent = t('login.submit');
  }
});
