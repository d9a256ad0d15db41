// The alert queue: the list of alerts, kept current by the server's event stream (no polling).
// Repeats of one camera, zone and type less than GROUP_WINDOW_MS apart are one incident row with
// a count (acting on it acts on its newest new alert; expanded, each alert has its own row).
// Filters by camera, sector, type, priority and state; bulk dismissal with one reason. Rows are
// keyed and redrawn only when what they show changed, so a queue of 1,000 alerts stays quick and
// the row under the keyboard keeps its focus. The queue is a listbox with a roving tabindex
// (keys.js moves through it); arrivals are announced by attention.js, not by the list.
import { api, can } from './api.js';
import { $, fmtTime, h, round } from './dom.js';
import { register, t } from './i18n.js';
import { arrived, onOpen, refresh as refreshAttention, seen } from './attention.js';

register({
  'Alert queue': 'File des alertes',
  'P1 urgent': 'P1 urgente', 'P2 high': 'P2 haute', 'P3 normal': 'P3 normale', 'P4 low': 'P4 basse',
  new: 'nouvelle', confirmed: 'confirmée', dispatched: 'patrouille envoyée', resolved: 'résolue', dismissed: 'écartée',
  'no picture': 'pas de photo',
  '{n} alerts': '{n} alertes',
  '{n} alerts, {m} new': '{n} alertes, dont {m} nouvelles',
  'show them': 'les afficher', 'hide them': 'les masquer',
  'one of {n}': 'une sur {n}',
  'held by {user}': 'prise par {user}',
  'Camera': 'Caméra', 'Sector': 'Secteur', 'Type': 'Type', 'Priority': 'Priorité', 'State': 'État',
  'any': 'toutes', 'no sector': 'sans secteur',
  'open (new, confirmed, dispatched)': 'ouvertes (nouvelles, confirmées, patrouille envoyée)',
  'all': 'toutes',
  '{n} alerts in {m} rows': '{n} alertes en {m} lignes',
  'Dismiss with one reason': 'Écarter avec un seul motif',
  'Reason': 'Motif', 'Explanation (required for other)': 'Explication (obligatoire pour « autre »)',
  'Alerts': 'Alertes',
  'every alert shown ({n})': 'toutes les alertes affichées ({n})',
  'the current incident ({n})': "l'incident courant ({n})",
  'Dismiss': 'Écarter',
  'false detection': 'fausse détection', 'authorised activity': 'activité autorisée', 'duplicate': 'doublon', 'other': 'autre',
  'No alert to dismiss here (only new or confirmed alerts can be).': "Aucune alerte à écarter ici (seules les nouvelles ou confirmées peuvent l'être).",
  'Dismiss {n} alerts as “{reason}”?': 'Écarter {n} alertes pour « {reason} » ?',
  '{n} dismissed.': '{n} écartées.',
  '{n} refused: {why}': '{n} refusées : {why}',
  'No alert.': 'Aucune alerte.',
  'No alert matches the filters.': 'Aucune alerte ne correspond aux filtres.',
  'vehicle in pedestrian zone': 'véhicule en zone piétonne', crowd: 'attroupement', 'abandoned object': 'objet abandonné',
  graffiti: 'graffiti', 'wrong way': 'contresens', intrusion: 'intrusion', 'person down': 'personne au sol',
});

/** Alerts by id, the one opened (and `detailFor`, once the detail pane shows it), how many
 * arrived since the last look; the
 * row under the keyboard (`cursor`, a row key), expanded incidents, filters and render figures. */
export const queue = {
  alerts: new Map(), selected: null, detailFor: null, opening: null, unseen: 0, cursor: null, expanded: new Set(),
  filters: { camera: '', sector: '', type: '', priority: '', state: 'open' },
  cameras: new Map(), sectors: [],
  stats: { renders: 0, created: 0, patched: 0, moved: 0, removed: 0, lastMs: 0 },
};

export const listeners = { select: () => {}, update: () => {} };
/** `select(id)` when the operator opens an alert, `update(id)` when the server changes one. */
export function onAlertEvents(l) { Object.assign(listeners, l); }

export const OPEN = ['new', 'confirmed', 'dispatched'];
export const STATES = ['new', 'confirmed', 'dispatched', 'resolved', 'dismissed'];
export const TYPES = ['person_down', 'intrusion', 'vehicle_in_pedestrian_zone', 'crowd', 'wrong_way', 'abandoned_object', 'graffiti'];
const REASONS = ['false_detection', 'authorised_activity', 'duplicate', 'other'];
/** Repeats closer than this to the previous alert of their camera, zone and type join its incident. */
export const GROUP_WINDOW_MS = 10 * 60_000;
/** The server takes at most this many ids per bulk dismissal. */
const BULK_MAX = 500;

/** Priority 1 (most urgent) to 4 from the server's urgency (person down 7 … graffiti 1). */
export const priority = (urgency) => (urgency >= 6 ? 1 : urgency >= 4 ? 2 : urgency >= 2 ? 3 : 4);
const PRIORITY_LABELS = ['', 'P1 urgent', 'P2 high', 'P3 normal', 'P4 low'];
export const priorityLabel = (urgency) => t(PRIORITY_LABELS[priority(urgency)]);
const words = (s) => s.replaceAll('_', ' ');
export const typeLabel = (type) => t(words(type));
/** One line naming an alert, for the banner, the announcement and notifications. */
export const describe = (a) => `${priorityLabel(a.urgency)} · ${typeLabel(a.type)} — ${a.camera} · ${a.zone}`;

const sectorOf = (camera) => queue.cameras.get(camera)?.sector || '';

function passes(a) {
  const f = queue.filters;
  if (f.state === 'open' ? !OPEN.includes(a.state) : f.state !== 'all' && a.state !== f.state) return false;
  if (f.camera && a.camera !== f.camera) return false;
  if (f.sector && (f.sector === '-' ? sectorOf(a.camera) !== '' : sectorOf(a.camera) !== f.sector)) return false;
  if (f.type && a.type !== f.type) return false;
  return !f.priority || priority(a.urgency) === Number(f.priority);
}

/** Groups alerts into incidents, most pressing first: open, then with a new alert, then most
 * urgent, then latest. An incident's `lead` is what acting on it acts on: its newest new alert,
 * else its newest open one, else its newest; its key is its oldest alert's id, stable while it grows. */
export function incidents(list) {
  const buckets = new Map();
  for (const a of list) {
    const k = `${a.camera}\u0000${a.zone}\u0000${a.type}`;
    let b = buckets.get(k);
    if (!b) { b = []; buckets.set(k, b); }
    b.push(a);
  }
  const out = [];
  for (const b of buckets.values()) {
    b.sort((x, y) => x.started_at_ms - y.started_at_ms || (x.id < y.id ? -1 : 1));
    let cur = null;
    for (const a of b) {
      if (cur && a.started_at_ms - cur.members[cur.members.length - 1].started_at_ms <= GROUP_WINDOW_MS) cur.members.push(a);
      else { cur = { key: a.id, members: [a] }; out.push(cur); }
    }
  }
  for (const inc of out) {
    inc.members.reverse();
    inc.lead = inc.members.find((a) => a.state === 'new') || inc.members.find((a) => OPEN.includes(a.state)) || inc.members[0];
    inc.open = OPEN.includes(inc.lead.state);
    inc.fresh = inc.members.filter((a) => a.state === 'new').length;
    inc.rank = [inc.open ? 1 : 0, inc.fresh ? 1 : 0, inc.lead.urgency, inc.members[0].started_at_ms];
  }
  out.sort((x, y) => { for (let i = 0; i < 4; i++) if (x.rank[i] !== y.rank[i]) return y.rank[i] - x.rank[i]; return 0; });
  return out;
}

// ---------- rendering ----------
/** Row key → { li, sig, inc, alert }; `order` is the keys as shown. */
const rows = new Map();
let order = [];
let shown = [];

function thumb(a) {
  return can('evidence') && a.snapshot_url ? h('img', { src: a.snapshot_url, alt: '', loading: 'lazy' })
    : h('div', { class: 'muted small nopic', text: t('no picture') });
}

function stateBadge(a) { return h('span', { class: `state ${a.state}`, text: t(a.state) }); }

function fillIncident(li, inc) {
  const a = inc.lead, n = inc.members.length;
  li.dataset.id = a.id;
  li.className = `alert-row prio-${priority(a.urgency)}` + (inc.members.some((m) => m.id === queue.selected) ? ' selected' : '')
    + (a._fresh ? ' fresh' : '') + (li.dataset.key === queue.cursor ? ' cursor' : '');
  const oldThumb = li.firstChild;
  const keepThumb = oldThumb && oldThumb.dataset.src === (a.snapshot_url || '');
  const pic = keepThumb ? oldThumb : thumb(a);
  pic.dataset.src = a.snapshot_url || '';
  const count = n > 1 ? h('span', { class: 'count', title: t(queue.expanded.has(inc.key) ? 'hide them' : 'show them') },
    inc.fresh > 1 && inc.fresh < n ? t('{n} alerts, {m} new', { n, m: inc.fresh }) : t('{n} alerts', { n }),
    h('span', { class: 'expander', 'aria-hidden': 'true', text: queue.expanded.has(inc.key) ? ' ▾' : ' ▸' })) : null;
  const body = h('div', { class: 'row-body' },
    h('div', { class: 'title' }, h('span', { class: `prio prio-${priority(a.urgency)}`, text: priorityLabel(a.urgency) }), ' ',
      h('span', { class: 'type', text: typeLabel(a.type) })),
    h('div', { class: 'small', text: `${a.camera} · ${a.zone}` }),
    h('div', { class: 'small muted', text: `${fmtTime(a.started_at_ms)} · ${a.peak.kind} ${round(a.peak.value)}` }),
    h('div', { class: 'meta' }, a.held_by ? h('span', { class: 'held small', text: t('held by {user}', { user: a.held_by }) }) : null,
      count, stateBadge(a)));
  li.replaceChildren(pic, body);
}

function fillMember(li, a, inc) {
  li.dataset.member = a.id;
  li.className = 'alert-row member' + (a.id === queue.selected ? ' selected' : '') + (li.dataset.key === queue.cursor ? ' cursor' : '');
  li.replaceChildren(h('div', { class: 'member-mark', 'aria-hidden': 'true', text: '↳' }), h('div', { class: 'row-body' },
    h('div', { class: 'small', text: `${t('one of {n}', { n: inc.members.length })} · ${typeLabel(a.type)} · ${a.camera} · ${a.zone}` }),
    h('div', { class: 'small muted', text: `${fmtTime(a.started_at_ms)} · ${a.peak.kind} ${round(a.peak.value)}` }),
    h('div', { class: 'meta' }, a.held_by ? h('span', { class: 'held small', text: t('held by {user}', { user: a.held_by }) }) : null,
      stateBadge(a))));
}

function newRow(key) {
  const li = h('li', { role: 'option', tabindex: '-1', 'aria-selected': 'false', 'data-key': key });
  li.addEventListener('click', (ev) => {
    const r = rows.get(key);
    if (!r) return;
    if (r.inc && ev.target.closest('.count')) { toggleExpand(key); return; }
    setCursor(key, true);
    selectAlert(r.alert.id);
  });
  return li;
}

const sigOf = (a) => `${a.id}|${a.state}|${a.updated_at_ms}|${a.held_by || ''}|${a._fresh ? 1 : 0}|${a.id === queue.selected ? 1 : 0}`;

/** Redraws what changed: rows are keyed, built once and patched only when their content
 * changes; rows that leave are removed and the others moved only if out of place. */
export function renderQueue() {
  const t0 = performance.now();
  const s = queue.stats;
  s.renders += 1;
  const ul = $('#queue');
  const hadFocus = ul.contains(document.activeElement);
  const cursorIndex = Math.max(0, order.indexOf(queue.cursor));
  const visible = [...queue.alerts.values()].filter(passes);
  const incs = incidents(visible);
  const want = [];
  for (const inc of incs) {
    const exp = inc.members.length > 1 && queue.expanded.has(inc.key);
    const sig = `${inc.members.length}|${inc.fresh}|${exp ? 1 : 0}|${inc.members.some((m) => m.id === queue.selected) ? 1 : 0}|${sigOf(inc.lead)}`;
    want.push({ key: `i:${inc.key}`, sig, inc, alert: inc.lead });
    if (exp) for (const a of inc.members) want.push({ key: `m:${a.id}`, sig: `${inc.members.length}|${sigOf(a)}`, member: inc, alert: a });
  }
  const keep = new Set(want.map((w) => w.key));
  for (const [k, r] of rows) if (!keep.has(k)) { r.li.remove(); rows.delete(k); s.removed += 1; }
  let prev = null;
  for (const w of want) {
    let r = rows.get(w.key);
    const existed = !!r;
    if (!r) {
      r = { li: newRow(w.key) };
      rows.set(w.key, r);
      s.created += 1;
    } else if (r.sig !== w.sig) s.patched += 1;
    if (r.sig !== w.sig) {
      if (w.inc) fillIncident(r.li, w.inc); else fillMember(r.li, w.alert, w.member);
      r.sig = w.sig;
    }
    Object.assign(r, { inc: w.inc || null, alert: w.alert });
    const at = prev ? prev.nextSibling : ul.firstChild;
    if (at !== r.li) { ul.insertBefore(r.li, at); if (existed) s.moved += 1; }
    prev = r.li;
  }
  order = want.map((w) => w.key);
  shown = incs;
  if (order.length) ul.setAttribute('role', 'listbox'); else ul.removeAttribute('role');
  // The cursor stays on its row, or takes the place of the row that left.
  const next = rows.has(queue.cursor) ? queue.cursor : order[Math.min(cursorIndex, order.length - 1)] || null;
  setCursor(next, hadFocus && !ul.contains(document.activeElement));
  const empty = $('#queue-empty');
  empty.hidden = order.length > 0;
  empty.textContent = queue.alerts.size ? t('No alert matches the filters.') : t('No alert.');
  const count = $('#queue-count');
  if (count) count.textContent = t('{n} alerts in {m} rows', { n: visible.length, m: order.length });
  refreshAttention(queue.alerts.values());
  updateBulkScope();
  s.lastMs = performance.now() - t0;
}

/** Drops every row and draws the queue again (language change, and the render benchmark). */
export function redrawAll() {
  for (const r of rows.values()) r.li.remove();
  rows.clear();
  order = [];
  renderQueue();
}

// ---------- cursor (roving tabindex) and opening ----------
export function setCursor(key, focus = false) {
  const old = rows.get(queue.cursor);
  if (old && queue.cursor !== key) { old.li.tabIndex = -1; old.li.setAttribute('aria-selected', 'false'); old.li.classList.remove('cursor'); }
  queue.cursor = key;
  const r = rows.get(key);
  if (!r) return;
  r.li.tabIndex = 0;
  r.li.setAttribute('aria-selected', 'true');
  r.li.classList.add('cursor');
  if (focus) { r.li.focus({ preventScroll: true }); r.li.scrollIntoView({ block: 'nearest' }); }
}

/** Moves the cursor by `delta` rows (or to the first/last with ±Infinity) and focuses it. */
export function moveCursor(delta) {
  if (!order.length) return;
  const i = order.indexOf(queue.cursor);
  const j = delta === -Infinity ? 0 : delta === Infinity ? order.length - 1
    : i < 0 ? 0 : Math.max(0, Math.min(order.length - 1, i + delta));
  setCursor(order[j], true);
}

export function focusQueue() {
  if (!rows.has(queue.cursor)) queue.cursor = order[0] || null;
  setCursor(queue.cursor, true);
}

/** The alert the cursor's row acts on (an incident's lead, or one member). */
export function cursorAlert() { return rows.get(queue.cursor)?.alert || null; }

export async function openCursor() {
  const a = cursorAlert();
  if (a) await selectAlert(a.id);
}

/** Shows or hides the members of the cursor's incident (`open` undefined: toggles). */
export function toggleExpand(key = queue.cursor, open) {
  const r = rows.get(key);
  const inc = r?.inc || r?.member;
  if (!inc || inc.members.length < 2) return;
  const on = open === undefined ? !queue.expanded.has(inc.key) : open;
  if (on) queue.expanded.add(inc.key); else queue.expanded.delete(inc.key);
  const focus = $('#queue').contains(document.activeElement);
  renderQueue();
  setCursor(`i:${inc.key}`, focus);
}

/** Replaces or adds an alert as the server returned it, and redraws what changed. */
export function putAlert(a) {
  queue.alerts.set(a.id, a);
  renderQueue();
}

export async function loadAlerts() {
  $('#queue-bulk').hidden = !can('alerts_act');
  if (!queue.cameras.size) await loadCameras();
  try {
    const r = await api('GET', '/api/alerts?limit=2000');
    queue.alerts = new Map(r.alerts.map((a) => [a.id, a]));
    fillCameraFilters();
    renderQueue();
  } catch (e) { $('#queue-empty').textContent = e.message; }
}

export async function selectAlert(id) {
  queue.selected = id;
  queue.unseen = 0; document.title = 'Vigie console';
  const a = queue.alerts.get(id); if (a) a._fresh = false;
  seen(id);
  renderQueue();
  queue.opening = listeners.select(id);
  await queue.opening;
  // Shortcuts wait for this before reaching into the pane (a stale pane has the same ids).
  if (queue.selected === id) queue.detailFor = id;
}

/** Opens an alert from outside the queue (banner, notification): the alerts view, its row. */
export async function openAlert(id) {
  if (!location.hash.startsWith('#/alerts')) location.hash = '#/alerts';
  const key = order.find((k) => rows.get(k).alert.id === id);
  if (key) setCursor(key, true);
  await selectAlert(id);
}
onOpen(openAlert);

/** A new alert from the feed: counted in the title, then banner, sound, announcement. */
export function cue(a) {
  queue.unseen += 1;
  document.title = `(${queue.unseen}) Vigie console`;
  arrived(a, describe(a));
}

// ---------- filters ----------
async function loadCameras() {
  if (!can('live')) return;
  try {
    const r = await api('GET', '/api/cameras');
    queue.cameras = new Map(r.cameras.map((c) => [c.id, { name: c.name || c.id, sector: c.sector || '' }]));
    queue.sectors = r.sectors || [];
  } catch (_) { /* filters by camera from the alerts themselves */ }
}

function options(select, list) {
  const was = select.value;
  select.replaceChildren(...list.map(([v, label]) => h('option', { value: v, text: label })));
  select.value = list.some(([v]) => v === was) ? was : list[0][0];
}

function fillCameraFilters() {
  const ids = new Set([...queue.cameras.keys(), ...[...queue.alerts.values()].map((a) => a.camera)]);
  options($('#filter-camera'), [['', t('any')], ...[...ids].sort().map((id) => {
    const name = queue.cameras.get(id)?.name;
    return [id, name && name !== id ? `${id} — ${name}` : id];
  })]);
  const sectors = queue.sectors.filter((s) => [...queue.cameras.values()].some((c) => c.sector === s.id));
  options($('#filter-sector'), [['', t('any')], ...sectors.map((s) => [s.id, s.name]),
    ...([...queue.cameras.values()].some((c) => !c.sector) ? [['-', t('no sector')]] : [])]);
  $('#filter-sector').closest('label').hidden = !queue.sectors.length;
  // A camera or sector that went away leaves its filter.
  queue.filters.camera = $('#filter-camera').value;
  queue.filters.sector = $('#filter-sector').value;
}

function filterField(id, label, list) {
  const select = h('select', { id, name: id });
  options(select, list);
  select.addEventListener('change', () => {
    queue.filters[id.replace('filter-', '')] = select.value;
    renderQueue();
  });
  return h('label', { class: 'small' }, `${t(label)} `, select);
}

// ---------- bulk dismissal ----------
function bulkIds() {
  const scope = $('#bulk-scope').value;
  const incs = scope === 'incident' ? [rows.get(queue.cursor)?.inc || rows.get(queue.cursor)?.member].filter(Boolean) : shown;
  return incs.flatMap((inc) => inc.members).filter((a) => a.state === 'new' || a.state === 'confirmed').map((a) => a.id);
}

function updateBulkScope() {
  const sel = $('#bulk-scope');
  if (!sel) return;
  const all = shown.flatMap((i) => i.members).filter((a) => a.state === 'new' || a.state === 'confirmed').length;
  const r = rows.get(queue.cursor);
  const inc = r?.inc || r?.member;
  const one = inc ? inc.members.filter((a) => a.state === 'new' || a.state === 'confirmed').length : 0;
  sel.options[0].text = t('every alert shown ({n})', { n: all });
  sel.options[1].text = t('the current incident ({n})', { n: one });
}

async function bulkDismiss() {
  const msg = $('#bulk-msg');
  msg.textContent = '';
  msg.className = 'small';
  const ids = bulkIds();
  if (!ids.length) { msg.textContent = t('No alert to dismiss here (only new or confirmed alerts can be).'); return; }
  const reason = $('#bulk-reason').value;
  const text = $('#bulk-text').value.trim() || null;
  if (!confirm(t('Dismiss {n} alerts as “{reason}”?', { n: ids.length, reason: t(words(reason)) }))) return;
  const dismissed = [], refused = [];
  try {
    for (let i = 0; i < ids.length; i += BULK_MAX) {
      const r = await api('POST', '/api/alerts/dismiss', { ids: ids.slice(i, i + BULK_MAX), reason, text });
      dismissed.push(...r.dismissed);
      refused.push(...r.refused);
    }
  } catch (e) { refused.push({ id: '', error: e.message }); }
  // The feed brings each dismissal too; until then the rows leave at once.
  for (const id of dismissed) { const a = queue.alerts.get(id); if (a) queue.alerts.set(id, { ...a, state: 'dismissed' }); }
  renderQueue();
  const parts = [t('{n} dismissed.', { n: dismissed.length })];
  if (refused.length) parts.push(t('{n} refused: {why}', { n: refused.length, why: refused.slice(0, 3).map((x) => (x.id ? `${x.id}: ${x.error}` : x.error)).join('; ') }));
  msg.textContent = parts.join(' ');
  msg.className = refused.length ? 'small error' : 'small ok';
}

/** Builds the filters and the bulk bar (strings through t()), once at start. */
export function initQueue() {
  const ul = $('#queue');
  ul.setAttribute('aria-label', t('Alert queue'));
  ul.removeAttribute('aria-live');
  $('#queue-filters').replaceChildren(
    filterField('filter-camera', 'Camera', [['', t('any')]]),
    filterField('filter-sector', 'Sector', [['', t('any')]]),
    filterField('filter-type', 'Type', [['', t('any')], ...TYPES.map((x) => [x, typeLabel(x)])]),
    filterField('filter-priority', 'Priority', [['', t('any')], ...[1, 2, 3, 4].map((p) => [String(p), t(PRIORITY_LABELS[p])])]),
    filterField('filter-state', 'State', [['open', t('open (new, confirmed, dispatched)')], ...STATES.map((x) => [x, t(x)]), ['all', t('all')]]),
  );
  $('#queue-bulk').replaceChildren(
    h('span', { class: 'small bulk-title', text: t('Dismiss with one reason') }),
    h('label', { class: 'small' }, `${t('Alerts')} `, h('select', { id: 'bulk-scope' },
      h('option', { value: 'shown', text: t('every alert shown ({n})', { n: 0 }) }),
      h('option', { value: 'incident', text: t('the current incident ({n})', { n: 0 }) }))),
    h('label', { class: 'small' }, `${t('Reason')} `, h('select', { id: 'bulk-reason' }, REASONS.map((r) => h('option', { value: r, text: t(words(r)) })))),
    h('input', { id: 'bulk-text', 'aria-label': t('Explanation (required for other)'), placeholder: t('Explanation (required for other)'), size: 24 }),
    h('button', { id: 'bulk-dismiss', type: 'button', onclick: bulkDismiss }, t('Dismiss')),
    h('span', { id: 'bulk-msg', class: 'small', role: 'status' }),
  );
}
