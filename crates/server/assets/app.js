// Vigie operators' console: the main module. Plain ES modules, no build step, no external
// resource; this file wires login, navigation and the views, each of which lives in its own
// module (api, alerts, detail, wall with clip and mjpeg, search, reports, admin with scene,
// stats with chart).
import { api, can, onSessionEnd, session } from './api.js';
import { $, h } from './dom.js';
import { initQueue, loadAlerts, onAlertEvents, queue } from './alerts.js';
import { initAttention, stopAttention } from './attention.js';
import { initKeys } from './keys.js';
import { closeFeed, openFeed } from './feed.js';
import { refreshDetail } from './detail.js';
import { startWall, stopWall } from './wall.js';
import { doSearch, initSearch } from './search.js';
import { initReports, loadAudit, loadReport, verifyAudit } from './reports.js';
import { addUser, initConfigView, loadConfig, loadUsers } from './admin.js';
import { loadCalibration, onCalibrationEvent } from './calibration.js';
import { initStats, initStatsView } from './stats.js';
import { loadHolds, placeHold } from './holds.js';
import { i18n, onLangChange, register, t } from './i18n.js';
import { initLangSwitch } from './lang.js';

// The menu's other labels are headings of the page too: their French is in lang.js.
register({
  Reports: 'Rapports', Calibration: 'Calibrage',
  'all sectors': 'tous les secteurs', 'sectors: {list}': 'secteurs : {list}', none: 'aucun',
  'Logged out.': 'Déconnecté.',
  'the two new passwords differ': 'les deux nouveaux mots de passe diffèrent',
  'Your session has ended: log in again.': 'Votre session a pris fin : reconnectez-vous.',
});

// ---------- login ----------
function showLogin(msg) {
  session.me = null;
  closeFeed();
  stopAttention();
  stopWall();
  $('#app').hidden = true;
  $('#password-view').hidden = true;
  $('#login-view').hidden = false;
  $('#login-error').textContent = msg ? t(msg) : '';
  $('#username').focus();
}

async function doLogin(ev) {
  ev.preventDefault();
  $('#login-error').textContent = '';
  try {
    session.me = await api('POST', '/api/login', { username: $('#username').value, password: $('#password').value });
    $('#password').value = '';
    startApp();
  } catch (e) { $('#login-error').textContent = e.message; }
}

// A password someone else chose (first start, administrator) opens nothing but this form.
function showPasswordChange() {
  $('#login-view').hidden = true;
  $('#app').hidden = true;
  $('#password-view').hidden = false;
  $('#password-error').textContent = '';
  $('#old-password').focus();
}

async function doPasswordChange(ev) {
  ev.preventDefault();
  const [oldPw, newPw, again] = ['#old-password', '#new-password', '#new-password2'].map((s) => $(s).value);
  if (newPw !== again) { $('#password-error').textContent = t('the two new passwords differ'); return; }
  try {
    session.me = await api('POST', '/api/me/password', { old_password: oldPw, new_password: newPw });
    for (const s of ['#old-password', '#new-password', '#new-password2']) $(s).value = '';
    $('#password-view').hidden = true;
    startApp();
  } catch (e) { $('#password-error').textContent = e.message; }
}

async function logout() {
  try { await api('POST', '/api/logout'); } catch (_) { /* already gone */ }
  showLogin('Logged out.');
}

// ---------- navigation ----------
const VIEWS = [
  ['alerts', 'Alerts', 'alerts_read'], ['wall', 'Camera wall', 'live'], ['search', 'Search', 'search'],
  ['reports', 'Reports', 'reports'], ['audit', 'Audit trail', 'audit'], ['users', 'Users', 'users'],
  ['config', 'Configuration', 'config_read'], ['stats', 'Statistics', 'stats'],
  ['calibration', 'Calibration', 'calibration_read'],
  ['holds', 'Legal holds', 'holds_read'],
];

function startApp() {
  if (session.me.password_change_required) { showPasswordChange(); return; }
  $('#login-view').hidden = true;
  $('#app').hidden = false;
  i18n.timeZone = session.me.timezone || null;
  renderChrome();
  if (can('alerts_read')) { loadAlerts(); openFeed(); } else { $('#feed-status').hidden = true; }
  route();
}

/** Who is logged in, their sectors and the menu: redrawn when the language changes. */
function renderChrome() {
  $('#whoami').textContent = t('{user} ({role})', { user: session.me.username, role: t(session.me.role) });
  // Which cameras this user sees everywhere in the console: their sectors', or all.
  $('#my-sectors').textContent = session.me.city_wide ? t('all sectors')
    : t('sectors: {list}', { list: (session.me.sectors || []).map((x) => x.name).join(', ') || t('none') });
  $('#nav').replaceChildren(...VIEWS.filter(([, , p]) => can(p)).map(([id, label]) => h('a', { href: `#/${id}`, id: `nav-${id}`, text: t(label) })));
}

function route() {
  if (!session.me) return;
  const allowed = VIEWS.filter(([, , p]) => can(p)).map(([id]) => id);
  let view = (location.hash.match(/^#\/(\w+)/) || [])[1];
  if (!allowed.includes(view)) view = allowed[0];
  for (const [id] of VIEWS) $(`#view-${id}`).hidden = id !== view;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.id === `nav-${view}`);
    if (a.id === `nav-${view}`) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (view === 'wall') startWall(); else stopWall();
  if (view === 'search') initSearch();
  if (view === 'audit') loadAudit();
  if (view === 'users') loadUsers();
  if (view === 'config') loadConfig();
  if (view === 'reports') initReports();
  if (view === 'calibration') loadCalibration();
  if (view === 'stats') initStats();
  if (view === 'holds') loadHolds();
}

// ---------- boot ----------
// Module scripts run once the document is parsed, like the `defer` script this file used to be.
onSessionEnd(showLogin);
onAlertEvents({
  select: refreshDetail,
  update: (id) => { if (queue.selected === id) refreshDetail(id); },
  calibration: onCalibrationEvent,
});
$('#login-form').addEventListener('submit', doLogin);
$('#password-form').addEventListener('submit', doPasswordChange);
$('#logout-btn').addEventListener('click', logout);
initQueue();
initAttention();
initKeys();
$('#search-form').addEventListener('submit', doSearch);
$('#report-form').addEventListener('submit', loadReport);
$('#audit-refresh').addEventListener('click', loadAudit);
$('#audit-filter').addEventListener('change', loadAudit);
$('#audit-verify').addEventListener('click', verifyAudit);
$('#user-form').addEventListener('submit', addUser);
$('#hold-form').addEventListener('submit', placeHold);
initConfigView();
initStatsView();
window.addEventListener('hashchange', route);
initLangSwitch();
// Views draw their text when they open: the current one is opened again in the new language.
onLangChange(() => { if (session.me && !$('#app').hidden) { renderChrome(); route(); } });
try { session.me = await api('GET', '/api/me'); startApp(); } catch (_) { showLogin(); }
