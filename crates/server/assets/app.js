// Vigie operators' console. Plain JavaScript, no build step, no external resource.
// Text from the server is always inserted with textContent, never as HTML.
'use strict';

const S = { me: null, alerts: new Map(), selected: null, feed: null, wallTimer: null, unseen: 0 };
const $ = (sel, root = document) => root.querySelector(sel);

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid.nodeType ? kid : String(kid));
  return el;
}

const can = (p) => !!S.me && S.me.permissions.includes(p);
const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString() : '');
const enc = encodeURIComponent;

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = S.me ? S.me.csrf_token : '';
  if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
  const r = await fetch(path, opts);
  const type = r.headers.get('content-type') || '';
  const data = type.includes('json') ? await r.json() : await r.text();
  if (r.status === 401 && S.me && path !== '/api/login') { showLogin('Your session has ended: log in again.'); }
  if (!r.ok) { const e = new Error((data && data.error) || `HTTP ${r.status}`); e.status = r.status; throw e; }
  return data;
}

// ---------- login ----------
function showLogin(msg) {
  S.me = null;
  if (S.feed) { S.feed.close(); S.feed = null; }
  stopWall();
  $('#app').hidden = true;
  $('#password-view').hidden = true;
  $('#login-view').hidden = false;
  $('#login-error').textContent = msg || '';
  $('#username').focus();
}

async function doLogin(ev) {
  ev.preventDefault();
  $('#login-error').textContent = '';
  try {
    S.me = await api('POST', '/api/login', { username: $('#username').value, password: $('#password').value });
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
  if (newPw !== again) { $('#password-error').textContent = 'the two new passwords differ'; return; }
  try {
    S.me = await api('POST', '/api/me/password', { old_password: oldPw, new_password: newPw });
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
  ['config', 'Configuration', 'config_read'],
];

function startApp() {
  if (S.me.password_change_required) { showPasswordChange(); return; }
  $('#login-view').hidden = true;
  $('#app').hidden = false;
  $('#whoami').textContent = `${S.me.username} (${S.me.role})`;
  const nav = $('#nav');
  nav.replaceChildren(...VIEWS.filter(([, , p]) => can(p)).map(([id, label]) => h('a', { href: `#/${id}`, id: `nav-${id}`, text: label })));
  if (can('alerts_read')) { loadAlerts(); openFeed(); } else { $('#feed-status').hidden = true; }
  route();
}

function route() {
  if (!S.me) return;
  const allowed = VIEWS.filter(([, , p]) => can(p)).map(([id]) => id);
  let view = (location.hash.match(/^#\/(\w+)/) || [])[1];
  if (!allowed.includes(view)) view = allowed[0];
  for (const [id] of VIEWS) $(`#view-${id}`).hidden = id !== view;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.id === `nav-${view}`);
  if (view === 'wall') startWall(); else stopWall();
  if (view === 'audit') loadAudit();
  if (view === 'users') loadUsers();
  if (view === 'config') loadConfig();
  if (view === 'reports') initReports();
}

// ---------- alerts ----------
function sortKey(a) {
  const open = ['new', 'confirmed', 'dispatched'].includes(a.state) ? 1 : 0;
  return [open, a.state === 'new' ? 1 : 0, a.urgency, a.started_at_ms];
}

function renderQueue() {
  const showClosed = $('#show-closed').checked;
  const list = [...S.alerts.values()].filter((a) => showClosed || ['new', 'confirmed', 'dispatched'].includes(a.state));
  list.sort((x, y) => { const a = sortKey(x), b = sortKey(y); for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return b[i] - a[i]; return 0; });
  const q = $('#queue');
  q.replaceChildren(...list.map(alertRow));
  $('#queue-empty').hidden = list.length > 0;
}

function alertRow(a) {
  const thumb = can('evidence') && a.snapshot_url ? h('img', { src: a.snapshot_url, alt: 'snapshot', loading: 'lazy' }) : h('div', { class: 'muted small', text: 'no picture' });
  const li = h('li', { 'data-id': a.id, class: `u${a.urgency}` + (a.id === S.selected ? ' selected' : '') + (a._fresh ? ' fresh' : ''), onclick: () => selectAlert(a.id) },
    thumb,
    h('div', {},
      h('div', { class: 'title', text: a.type.replaceAll('_', ' ') }),
      h('div', { class: 'small', text: `${a.camera} · ${a.zone}` }),
      h('div', { class: 'small muted', text: `${fmtTime(a.started_at_ms)} · ${a.peak.kind} ${round(a.peak.value)}` }),
      h('span', { class: `state ${a.state}`, text: a.state })));
  return li;
}

const round = (v) => (Math.round(v * 100) / 100).toString();

async function loadAlerts() {
  try {
    const r = await api('GET', '/api/alerts?limit=300');
    S.alerts = new Map(r.alerts.map((a) => [a.id, a]));
    renderQueue();
  } catch (e) { $('#queue-empty').textContent = e.message; }
}

function openFeed() {
  if (S.feed) S.feed.close();
  const es = new EventSource('/api/alerts/stream');
  S.feed = es;
  const status = $('#feed-status');
  es.addEventListener('ready', () => { status.textContent = 'live'; status.classList.add('live'); });
  es.addEventListener('alert', (m) => { const a = JSON.parse(m.data); a._fresh = true; S.alerts.set(a.id, a); renderQueue(); cue(a); });
  es.addEventListener('update', (m) => {
    const a = JSON.parse(m.data);
    S.alerts.set(a.id, a);
    renderQueue();
    if (S.selected === a.id) refreshDetail(a.id);
  });
  es.addEventListener('resync', loadAlerts);
  es.onerror = async () => {
    status.textContent = 'reconnecting'; status.classList.remove('live');
    if (es.readyState === EventSource.CLOSED) {
      try { await api('GET', '/api/me'); setTimeout(openFeed, 2000); } catch (_) { /* showLogin already ran */ }
    }
  };
}

let audioCtx = null;
function cue(a) {
  S.unseen += 1;
  document.title = `(${S.unseen}) Vigie console`;
  const banner = $('#arrival');
  banner.textContent = `New alert: ${a.type.replaceAll('_', ' ')} — ${a.camera}`;
  banner.hidden = false;
  clearTimeout(cue.t);
  cue.t = setTimeout(() => { banner.hidden = true; }, 8000);
  try {
    audioCtx = audioCtx || new AudioContext();
    const o = audioCtx.createOscillator(), g = audioCtx.createGain();
    o.frequency.value = a.urgency >= 6 ? 1040 : 760;
    g.gain.setValueAtTime(0.15, audioCtx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, audioCtx.currentTime + 0.4);
    o.connect(g).connect(audioCtx.destination);
    o.start(); o.stop(audioCtx.currentTime + 0.4);
  } catch (_) { /* no audio device: the visual cue remains */ }
}

async function selectAlert(id) {
  S.selected = id;
  S.unseen = 0; document.title = 'Vigie console';
  const a = S.alerts.get(id); if (a) a._fresh = false;
  renderQueue();
  await refreshDetail(id);
}

async function refreshDetail(id) {
  const pane = $('#detail');
  let d;
  try { d = await api('GET', `/api/alerts/${enc(id)}`); } catch (e) { pane.replaceChildren(h('p', { class: 'error', text: e.message })); return; }
  if (S.selected !== id) return;
  const a = d.alert;
  S.alerts.set(a.id, Object.assign(S.alerts.get(a.id) || {}, a));
  const grant = d.unmask;
  // Evidence is fetched (and audited) once per alert and unmask state, not on every update.
  const mediaKey = `${a.id}|${grant ? 'unmasked' : 'blurred'}`;
  let media = S.mediaKey === mediaKey ? S.media : null;
  if (!media) {
    media = h('div', { class: 'media' });
    if (can('evidence')) {
      const q = grant ? '?unmasked=true' : '';
      if (a.snapshot_url) media.append(h('div', {}, h('h3', { text: grant ? 'Snapshot (UNMASKED)' : 'Snapshot' }),
        h('img', { id: 'evidence-img', class: 'evidence' + (grant ? ' unmasked' : ''), src: a.snapshot_url + q, alt: 'evidence snapshot' })));
      media.append(h('div', {}, h('h3', { text: grant ? 'Clip (UNMASKED)' : 'Clip' }), clipPlayer(a.clip_url + q)));
    }
    S.mediaKey = mediaKey; S.media = media;
  }
  const info = h('dl', {},
    h('dt', { text: 'Type' }), h('dd', { text: a.type }),
    h('dt', { text: 'Camera / zone' }), h('dd', { text: `${a.camera} / ${a.zone}` }),
    h('dt', { text: 'Started' }), h('dd', { text: fmtTime(a.started_at_ms) }),
    h('dt', { text: 'Ended' }), h('dd', { text: a.ended_at_ms ? fmtTime(a.ended_at_ms) : 'ongoing' }),
    h('dt', { text: 'Peak' }), h('dd', { text: `${a.peak.kind} ${round(a.peak.value)}` }),
    h('dt', { text: 'Rule' }), h('dd', { text: `${a.rule} (version ${a.rule_version})` }),
    h('dt', { text: 'Legal basis' }), h('dd', { id: 'legal-basis', text: a.legal_basis }),
    h('dt', { text: 'Model' }), h('dd', { class: 'small', text: a.model_sha256 }),
    h('dt', { text: 'State' }), h('dd', {}, h('span', { id: 'detail-state', class: `state ${a.state}`, text: a.state })));
  const history = h('ul', { id: 'decisions', class: 'small' }, d.decisions.map((x) =>
    h('li', { text: `${fmtTime(x.at_ms)} — ${x.actor}: ${x.action} (${x.from_state} → ${x.to_state})${x.reason ? ' · ' + x.reason : ''}${x.text ? ' · ' + x.text : ''}` })));
  pane.replaceChildren(h('h2', { text: a.type.replaceAll('_', ' ') }), media, info, actionsFor(a, d, grant), h('h3', { text: 'Decisions' }), history);
}

function clipPlayer(url) {
  // Archive clips are video files; pre-event buffers arrive as MJPEG (multipart), which is
  // unpacked here so that one request (one audit entry) plays it.
  const box = h('div', { id: 'clip-box' }, h('p', { class: 'muted small', text: 'Loading footage…' }));
  playClip(box, url);
  return box;
}

async function playClip(box, url) {
  let r;
  try { r = await fetch(url, { credentials: 'same-origin' }); } catch (e) { box.replaceChildren(h('p', { class: 'error', text: e.message })); return; }
  const type = r.headers.get('content-type') || '';
  if (!r.ok) {
    const msg = type.includes('json') ? (await r.json()).error : `HTTP ${r.status}`;
    box.replaceChildren(h('p', { class: 'muted', text: `No footage: ${msg}` }));
    return;
  }
  if (type.startsWith('video/')) {
    box.replaceChildren(h('video', { controls: true, autoplay: true, muted: true, src: URL.createObjectURL(await r.blob()) }));
    return;
  }
  const img = h('img', { class: 'evidence', alt: 'event clip' });
  const replay = h('button', { class: 'link', onclick: () => playClip(box, url) }, 'Replay');
  box.replaceChildren(img);
  const reader = r.body.getReader();
  let buf = new Uint8Array(0), last = null, frames = 0;
  const find = (needle, from) => {
    outer: for (let i = from; i <= buf.length - needle.length; i++) { for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer; return i; }
    return -1;
  };
  const CRLF2 = [13, 10, 13, 10];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(buf.length + value.length); joined.set(buf); joined.set(value, buf.length); buf = joined;
    for (;;) {
      const headEnd = find(CRLF2, 0);
      if (headEnd < 0) break;
      const head = new TextDecoder().decode(buf.slice(0, headEnd));
      const m = head.match(/content-length:\s*(\d+)/i);
      if (!m) { buf = buf.slice(headEnd + 4); continue; }
      const len = Number(m[1]), start = headEnd + 4;
      if (buf.length < start + len) break;
      const jpeg = buf.slice(start, start + len);
      buf = buf.slice(start + len);
      const u = URL.createObjectURL(new Blob([jpeg], { type: 'image/jpeg' }));
      img.src = u; frames += 1;
      if (last) URL.revokeObjectURL(last);
      last = u;
    }
  }
  box.append(h('div', { class: 'small muted' }, `${frames} pictures · `, replay));
}

function actionsFor(a, d, grant) {
  const box = h('div', { class: 'actions' });
  const msg = h('p', { id: 'action-msg', class: 'error small' });
  const run = async (path, body) => {
    msg.textContent = '';
    try { const v = await api('POST', `/api/alerts/${enc(a.id)}/${path}`, body); S.alerts.set(v.id, v); renderQueue(); await refreshDetail(a.id); }
    catch (e) { msg.textContent = e.message; }
  };
  if (can('alerts_act')) {
    const reason = h('select', { id: 'dismiss-reason' }, d.dismiss_reasons.map((r) => h('option', { value: r, text: r.replaceAll('_', ' ') })));
    const reasonText = h('input', { id: 'dismiss-text', placeholder: 'explanation (required for other)' });
    const unit = h('input', { id: 'dispatch-unit', placeholder: 'patrol name or instructions' });
    const note = h('input', { id: 'resolve-note', placeholder: 'resolution note' });
    box.append(
      h('div', { class: 'row' }, h('button', { id: 'btn-confirm', class: 'primary', onclick: () => run('confirm') }, 'Confirm')),
      h('div', { class: 'row' }, reason, reasonText, h('button', { id: 'btn-dismiss', onclick: () => run('dismiss', { reason: reason.value, text: reasonText.value || null }) }, 'Dismiss')),
      h('div', { class: 'row' }, unit, h('button', { id: 'btn-dispatch', onclick: () => run('dispatch', { unit: unit.value }) }, 'Dispatch')),
      h('div', { class: 'row' }, note, h('button', { id: 'btn-resolve', onclick: () => run('resolve', { note: note.value }) }, 'Resolve')));
  }
  if (can('unmask')) {
    if (grant) box.append(h('p', { class: 'small', text: `Unmasked until ${fmtTime(grant.expires_at_ms)} — reason: ${grant.reason}` }));
    else {
      const why = h('input', { id: 'unmask-reason', placeholder: 'reason for unmasking (recorded)', size: 30 });
      box.append(h('div', { class: 'row' }, why, h('button', { id: 'btn-unmask', class: 'danger', onclick: async () => {
        msg.textContent = '';
        try { await api('POST', `/api/alerts/${enc(a.id)}/unmask`, { reason: why.value }); await refreshDetail(a.id); } catch (e) { msg.textContent = e.message; }
      } }, 'Unmask evidence')));
    }
  }
  box.append(msg);
  return box;
}

// ---------- camera wall ----------
async function startWall() {
  stopWall();
  const wall = $('#wall');
  let cams;
  try { cams = (await api('GET', '/api/cameras')).cameras; } catch (e) { wall.replaceChildren(h('p', { class: 'error', text: e.message })); return; }
  wall.replaceChildren(...cams.map((c) => h('div', { class: 'card', 'data-camera': c.id },
    h('img', { class: 'live', alt: `live view of ${c.name}`, src: `/api/cameras/${enc(c.id)}/live?t=${Date.now()}` }),
    h('div', {}, h('strong', { text: c.name }), ' ', h('span', { class: 'health small' })),
    h('div', { class: 'small muted', text: c.zones.length ? `zones: ${c.zones.map((z) => z.name).join(', ')}` : 'no zone' }))));
  const health = (cams) => {
    for (const c of cams) {
      const card = wall.querySelector(`[data-camera="${CSS.escape(c.id)}"]`); if (!card) continue;
      const hl = c.health || {};
      const el = card.querySelector('.health');
      const storage = (hl.storage_alerts || []).join('; ');
      const notRecording = hl.recording === false ? ` · NOT RECORDING${hl.recording_error ? `: ${hl.recording_error}` : ''}` : '';
      el.textContent = `${hl.connected ? 'connected' : 'disconnected'}${hl.fps !== undefined ? ` · ${round(hl.fps)} fps` : ''}`
        + `${hl.last_error ? ` · last error: ${hl.last_error}` : ''}${notRecording}${storage ? ` · storage: ${storage}` : ''}`;
      el.className = 'health small ' + (hl.connected && !notRecording && !storage ? 'ok' : 'bad');
    }
  };
  health(cams);
  let tick = 0;
  S.wallTimer = setInterval(async () => {
    for (const img of wall.querySelectorAll('img.live')) {
      // Load the next picture off-screen, then swap: no flicker, no pile-up on a slow link.
      if (img.dataset.loading) continue;
      img.dataset.loading = '1';
      const next = new Image();
      const url = img.src.replace(/t=\d+/, `t=${Date.now()}`);
      next.onload = () => { img.src = url; delete img.dataset.loading; };
      next.onerror = () => { delete img.dataset.loading; };
      next.src = url;
    }
    if (++tick % 5 === 0) { try { health((await api('GET', '/api/cameras')).cameras); } catch (_) { /* shown next time */ } }
  }, 1000);
}

function stopWall() { if (S.wallTimer) { clearInterval(S.wallTimer); S.wallTimer = null; } }

// ---------- search ----------
async function doSearch(ev) {
  ev.preventDefault();
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(ev.target)) if (v) params.set(k, v);
  const info = $('#search-info'), out = $('#search-results');
  try {
    const r = await api('GET', `/api/search?${params}`);
    const understood = (r.understood || []).join(', ');
    info.textContent = `${r.total ?? r.tracks.length} result(s)${understood ? ` — understood as: ${understood}` : ''}`;
    out.replaceChildren(...r.tracks.map((t) => h('div', { class: 'card', onclick: () => playSearch(t) },
      t.thumbnail_url ? h('img', { src: t.thumbnail_url, alt: t.class }) : '',
      h('div', { class: 'small', text: `${t.class}${t.color ? ' · ' + t.color : ''} · ${t.camera} · ${fmtTime(t.start_ms)}` }))));
  } catch (e) { info.textContent = e.message; out.replaceChildren(); }
}

function playSearch(t) {
  const from = t.clip_from_ms ?? t.start_ms - 5000, to = Math.min(t.clip_to_ms ?? t.end_ms + 5000, from + 600000);
  $('#search-player').replaceChildren(h('h3', { text: `${t.class} on ${t.camera}` }), clipPlayer(`/api/cameras/${enc(t.camera)}/clip?from=${from}&to=${to}`));
}

// ---------- reports ----------
function initReports() {
  const f = $('#report-form');
  if (!f.from.value) {
    const to = new Date(), from = new Date(Date.now() - 30 * 86400000);
    f.to.value = new Date(to.getTime() + 86400000).toISOString().slice(0, 10);
    f.from.value = from.toISOString().slice(0, 10);
  }
  loadReport();
}

async function loadReport(ev) {
  if (ev) ev.preventDefault();
  const f = $('#report-form');
  const qs = `from=${f.from.value}&to=${f.to.value}`;
  $('#report-csv').href = `/api/reports/transparency?${qs}&format=csv`;
  try {
    const r = await api('GET', `/api/reports/transparency?${qs}`);
    const cols = ['camera', 'event_type', 'alerts', 'confirmed', 'dismissed', 'undecided', 'precision', 'false_alarms_per_camera_day', 'median_time_to_decision_s'];
    $('#report-table thead').replaceChildren(h('tr', {}, cols.map((c) => h('th', { text: c.replaceAll('_', ' ') })), h('th', { text: 'dismissed by reason' })));
    $('#report-table tbody').replaceChildren(...r.rows.map((row) => h('tr', {},
      cols.map((c) => h('td', { text: row[c] === null ? '—' : typeof row[c] === 'number' ? round(row[c]) : row[c] })),
      h('td', { class: 'small', text: Object.entries(row.dismissed_by_reason).map(([k, v]) => `${k}: ${v}`).join(', ') }))));
    $('#report-models').textContent = `Models: ${r.models.join(', ') || '—'} · Rules: ${r.rule_versions.join(', ') || '—'} · Audit trail head: entry ${r.audit_head.seq}, hash ${r.audit_head.hash}`;
  } catch (e) { $('#report-models').textContent = e.message; }
}

// ---------- audit ----------
async function loadAudit() {
  const prefix = $('#audit-filter').value.trim();
  try {
    const r = await api('GET', `/api/audit?limit=200${prefix ? `&action=${enc(prefix)}` : ''}`);
    $('#audit-table tbody').replaceChildren(...r.entries.map((e) => h('tr', { 'data-seq': e.seq },
      h('td', { text: e.seq }), h('td', { text: fmtTime(e.at_ms) }), h('td', { class: 'actor', text: e.actor }),
      h('td', { class: 'action', text: e.action }), h('td', { class: 'target', text: e.target }), h('td', { class: 'details', text: e.details }))));
  } catch (e) { $('#audit-verdict').textContent = e.message; }
}

async function verifyAudit() {
  const v = $('#audit-verdict');
  try {
    const r = await api('GET', '/api/audit/verify');
    v.textContent = r.ok ? `intact: ${r.entries} entries, head ${r.head_hash.slice(0, 16)}…` : r.message;
    v.className = r.ok ? 'ok' : 'bad';
  } catch (e) { v.textContent = e.message; v.className = 'bad'; }
}

// ---------- users ----------
async function loadUsers() {
  try {
    const r = await api('GET', '/api/users');
    $('#users-table tbody').replaceChildren(...r.users.map((u) => h('tr', {},
      h('td', { text: u.username }), h('td', { text: u.role }), h('td', { text: u.disabled ? 'disabled' : 'active' }),
      h('td', {}, u.disabled || u.username === S.me.username ? '' : h('button', { onclick: async () => {
        try { await api('POST', `/api/users/${enc(u.username)}/disable`); loadUsers(); } catch (e) { $('#user-msg').textContent = e.message; }
      } }, 'Disable')))));
  } catch (e) { $('#user-msg').textContent = e.message; }
}

async function addUser(ev) {
  ev.preventDefault();
  const f = ev.target;
  try {
    await api('POST', '/api/users', { username: f.username.value, role: f.role.value, password: f.password.value });
    f.reset(); $('#user-msg').textContent = 'User added.'; loadUsers();
  } catch (e) { $('#user-msg').textContent = e.message; }
}

// ---------- configuration ----------
async function loadConfig() {
  try { $('#config-text').value = JSON.stringify(await api('GET', '/api/config'), null, 2); } catch (e) { $('#config-msg').textContent = e.message; }
  if (can('notify_status')) { try { $('#notify-status').textContent = JSON.stringify(await api('GET', '/api/notifications'), null, 2); } catch (_) { /* optional */ } }
}

async function saveConfig() {
  const msg = $('#config-msg');
  let body;
  try { body = JSON.parse($('#config-text').value); } catch (e) { msg.textContent = `Not valid JSON: ${e.message}`; return; }
  try { await api('PUT', '/api/config', body); msg.textContent = 'Applied.'; } catch (e) { msg.textContent = e.message; }
}

// ---------- boot ----------
document.addEventListener('DOMContentLoaded', async () => {
  $('#login-form').addEventListener('submit', doLogin);
  $('#password-form').addEventListener('submit', doPasswordChange);
  $('#logout-btn').addEventListener('click', logout);
  $('#show-closed').addEventListener('change', renderQueue);
  $('#search-form').addEventListener('submit', doSearch);
  $('#report-form').addEventListener('submit', loadReport);
  $('#audit-refresh').addEventListener('click', loadAudit);
  $('#audit-filter').addEventListener('change', loadAudit);
  $('#audit-verify').addEventListener('click', verifyAudit);
  $('#user-form').addEventListener('submit', addUser);
  $('#config-save').addEventListener('click', saveConfig);
  window.addEventListener('hashchange', route);
  try { S.me = await api('GET', '/api/me'); startApp(); } catch (_) { showLogin(); }
});
