// Administration: users, and the zones and rules of each camera. The forms build the same JSON
// that `PUT /api/config` always took (the raw JSON stays available under "Advanced"); the server
// validates, and each error it reports is shown next to the field its key names.
import { api, can, session } from './api.js';
import { $, enc, h } from './dom.js';
import {
  EVENT_TYPES, FieldError, RULE_KEYS, ZONE_KEYS, ZONE_KINDS, errorKeys, formatPoints, paramsFor, parseList,
  parseNumber, parsePair, parsePoints, sameJson,
} from './scene.js';
import { initMasks, loadMasks } from './masks.js';
import { PolygonEditor } from './polygon-editor.js';
import { register, t } from './i18n.js';

register({
  'Draw on picture': 'Dessiner sur l\'image',
  'Draw the outline of zone {name} on the picture': 'Dessiner le contour de la zone {name} sur l\'image',
  'Click the corners of zone {name} on the picture; click the first point or "Finish outline" to close it.':
    'Cliquez les coins de la zone {name} sur l\'image ; cliquez le premier point ou « Terminer le contour » pour le fermer.',
  'Outline of zone {name} closed: press "Apply" to save it.': 'Contour de la zone {name} fermé : « Appliquer » pour l\'enregistrer.',
  'An outline needs at least 3 points.': 'Un contour demande au moins 3 points.',
  'Picture {w} × {h} pixels.': 'Image {w} × {h} pixels.',
  'The camera has sent no picture yet: zones can be drawn once it shows.': 'La caméra n\'a encore envoyé aucune image : les zones se dessinent dès qu\'elle s\'affiche.',
  'Name the zone first.': 'Nommez d\'abord la zone.',
  'Applied.': 'Appliqué.',
});

// ---------- users ----------
export async function loadUsers() {
  try {
    const r = await api('GET', '/api/users');
    $('#users-table tbody').replaceChildren(...r.users.map((u) => h('tr', {},
      h('td', { text: u.username }), h('td', { text: u.role }), h('td', { text: u.disabled ? 'disabled' : 'active' }),
      h('td', {}, sectorsEditor(u)),
      h('td', {}, u.disabled || u.username === session.me.username ? '' : h('button', { onclick: async () => {
        try { await api('POST', `/api/users/${enc(u.username)}/disable`); loadUsers(); } catch (e) { $('#user-msg').textContent = e.message; }
      } }, 'Disable')))));
  } catch (e) { $('#user-msg').textContent = e.message; }
}

/** Sector ids typed as "centre, gare"; none: city-wide. */
const sectorList = (text) => text.split(',').map((x) => x.trim()).filter(Boolean);

// A user's sectors, edited in place; the server checks them against the configuration's.
function sectorsEditor(u) {
  const input = h('input', { value: (u.sectors || []).join(', '), placeholder: 'all (city-wide)', 'aria-label': `sectors of ${u.username}` });
  return h('span', {}, input, ' ', h('button', { onclick: async () => {
    try {
      await api('POST', `/api/users/${enc(u.username)}/sectors`, { sectors: sectorList(input.value) });
      $('#user-msg').textContent = `Sectors of ${u.username} saved.`; loadUsers();
    } catch (e) { $('#user-msg').textContent = e.message; }
  } }, 'Set'));
}

export async function addUser(ev) {
  ev.preventDefault();
  const f = ev.target;
  try {
    await api('POST', '/api/users', { username: f.username.value, role: f.role.value, password: f.password.value, sectors: sectorList(f.sectors.value) });
    f.reset(); $('#user-msg').textContent = 'User added.'; loadUsers();
  } catch (e) { $('#user-msg').textContent = e.message; }
}

// ---------- zones drawn on the picture ----------
/** The camera whose zones are drawn, its picture size, and the outline editor. */
const zd = { camera: null, picture: null, editor: null, shapes: [], sizes: new Map() };

function initZoneDrawing() {
  zd.editor = new PolygonEditor($('#zones-svg'), { edit: zoneOutlineEdited, close: zoneOutlineClosed }, { shape: 'zone-shape', point: 'mask-point' });
  $('#zones-finish').addEventListener('click', () => { if (!zd.editor.finish()) $('#zones-msg').textContent = t('An outline needs at least 3 points.'); });
  $('#zones-refresh').addEventListener('click', refreshZonePicture);
}

/** Picture sizes of the cameras, from the wall's list (0 × 0 before the first frame). */
async function loadPictureSizes() {
  try {
    const r = await api('GET', '/api/cameras');
    zd.sizes = new Map(r.cameras.filter((c) => c.width > 0 && c.height > 0).map((c) => [c.id, { width: c.width, height: c.height }]));
  } catch (_) { zd.sizes = new Map(); }
}

const camForm = (id) => document.querySelector(`#config-forms > .camera-form[data-camera="${CSS.escape(id)}"]`);

/** Area zones of the camera's form as outlines in camera pixels (normalised ones scaled). */
function zoneShapes(camEl) {
  const pic = zd.picture;
  return [...camEl.querySelectorAll('.zones > .zone')].filter((el) => named(el, 'kind').value !== 'line').map((el) => {
    let polygon = [];
    try { polygon = parsePoints(named(el, 'polygon').value, 'polygon'); } catch (_) { /* shown when applied */ }
    if (pic && polygon.length && polygon.every(([x, y]) => x >= 0 && x <= 1 && y >= 0 && y <= 1)) {
      polygon = polygon.map(([x, y]) => [Math.round(x * pic.width), Math.round(y * pic.height)]);
    }
    return { name: named(el, 'name').value.trim(), polygon, el };
  });
}

/** Shows the zones of `id` on its picture (the camera picked in the configuration view). */
function showZoneDrawing(id) {
  zd.camera = id;
  $('#zones-draw').hidden = !id || !can('live');
  if (!id) return;
  zd.picture = zd.sizes.get(id) || null;
  $('#zones-size').textContent = zd.picture ? t('Picture {w} × {h} pixels.', { w: zd.picture.width, h: zd.picture.height })
    : t('The camera has sent no picture yet: zones can be drawn once it shows.');
  zd.editor.setPicture(zd.picture);
  syncZoneShapes();
  refreshZonePicture();
}

function syncZoneShapes() {
  const camEl = zd.camera && camForm(zd.camera);
  if (!camEl || !zd.editor || zd.editor.drawing) return;
  zd.shapes = zoneShapes(camEl);
  const sel = zd.editor.selected;
  zd.editor.setShapes(zd.shapes);
  if (sel >= 0 && sel < zd.shapes.length) zd.editor.select(sel);
}

function refreshZonePicture() {
  $('#zones-stage').hidden = !zd.picture;
  if (!zd.camera || !zd.picture || !can('live')) return;
  // Made here, not in the page: roles that never see a picture get no image element at all.
  let img = $('#zones-img');
  if (!img) {
    img = h('img', { id: 'zones-img', alt: 'Live picture of the camera, people blurred' });
    $('#zones-stage').prepend(img);
  }
  // Its size is known before it loads, so nothing below it moves when it arrives.
  img.width = zd.picture.width;
  img.height = zd.picture.height;
  img.src = `/api/cameras/${enc(zd.camera)}/live?at=${Date.now()}`;
}

function zoneOutlineEdited(i) {
  const s = zd.shapes[i];
  if (s) named(s.el, 'polygon').value = formatPoints(s.polygon);
}

function zoneOutlineClosed(i) {
  $('#zones-finish').disabled = true;
  $('#zones-stage').classList.remove('drawing');
  const s = zd.shapes[i];
  $('#zones-msg').textContent = t('Outline of zone {name} closed: press "Apply" to save it.', { name: s ? s.name : '' });
}

/** "Draw on picture" of a zone: its outline is drawn afresh by clicks on the picture. */
function drawZone(el) {
  if (!zd.picture) { $('#zones-msg').textContent = t('The camera has sent no picture yet: zones can be drawn once it shows.'); return; }
  const name = named(el, 'name').value.trim();
  if (!name) { $('#zones-msg').textContent = t('Name the zone first.'); named(el, 'name').focus(); return; }
  if (zd.editor.drawing) zd.editor.cancel();
  syncZoneShapes();
  const i = zd.shapes.findIndex((s) => s.el === el);
  if (i < 0) return;
  zd.editor.start(i);
  named(el, 'polygon').value = '';
  $('#zones-finish').disabled = false;
  $('#zones-stage').classList.add('drawing');
  $('#zones-msg').textContent = t('Click the corners of zone {name} on the picture; click the first point or "Finish outline" to close it.', { name });
  $('#zones-draw').scrollIntoView({ block: 'nearest' });
}

// ---------- configuration ----------
/** The configuration as the server last returned it, and the camera whose form is shown. */
const cfg = { loaded: null, camera: null };

export async function loadConfig() {
  $('#config-msg').textContent = '';
  if (can('live')) await loadPictureSizes();
  try { showConfig(await api('GET', '/api/config')); } catch (e) { $('#config-msg').textContent = e.message; }
  if (can('notify_status')) { try { $('#notify-status').textContent = JSON.stringify(await api('GET', '/api/notifications'), null, 2); } catch (_) { /* optional */ } }
}

function showConfig(c) {
  cfg.loaded = c;
  $('#config-text').value = JSON.stringify(c, null, 2);
  const cams = c.cameras || [];
  if (!cams.some((cam) => cam.id === cfg.camera)) cfg.camera = cams.length ? cams[0].id : null;
  $('#config-camera').replaceChildren(...cams.map((cam) => h('option', { value: cam.id, text: cam.name ? `${cam.id} — ${cam.name}` : cam.id })));
  $('#config-forms').replaceChildren(...cams.map(cameraForm));
  $('#config-events').replaceChildren(eventsForm(c.events || {}));
  showCamera(cfg.camera);
}

/** The city-wide `[events]` switches: types off everywhere, and the time zone of schedules. */
function eventsForm(ev) {
  const off = ev.disabled || [];
  return h('fieldset', { class: 'events' }, h('legend', { text: 'All cameras' }),
    field('timezone', 'Time zone of the schedules', h('input', { value: ev.timezone || '', size: 20, placeholder: 'Europe/Paris' }), 'IANA name'),
    h('div', { class: 'field', 'data-field': 'disabled' }, h('span', { class: 'field-label', text: 'Event types switched off on every camera' }),
      h('div', { class: 'row' }, EVENT_TYPES.map((t) => h('label', { class: 'small' },
        h('input', { type: 'checkbox', name: 'disabled', value: t, checked: off.includes(t) }), ` ${t.replaceAll('_', ' ')}`))),
      h('span', { class: 'field-error error small' })));
}

function collectEvents(targets) {
  const el = $('#config-events');
  const tz = el.querySelector('.field[data-field="timezone"]');
  const off = el.querySelector('.field[data-field="disabled"]');
  targets.set('events.timezone', tz);
  targets.set('events', tz);
  targets.set('events.disabled', off);
  EVENT_TYPES.forEach((_, i) => targets.set(`events.disabled[${i}]`, off));
  const events = { ...omit(cfg.loaded.events, ['timezone', 'disabled']), disabled: [...off.querySelectorAll('input:checked')].map((i) => i.value) };
  const zone = named(tz, 'timezone').value.trim();
  if (zone) events.timezone = zone;
  return events;
}

function showCamera(id) {
  cfg.camera = id;
  $('#config-camera').value = id;
  for (const el of document.querySelectorAll('#config-forms > .camera-form')) el.hidden = el.dataset.camera !== id;
  showZoneDrawing(id);
  loadMasks(id);
}

/** A labelled control with its unit and a place for the server's word about it. */
function field(name, label, control, unit) {
  control.setAttribute('name', name);
  return h('label', { class: 'field', 'data-field': name }, h('span', { class: 'field-label', text: label }), control,
    unit ? h('span', { class: 'unit muted small', text: unit }) : null, h('span', { class: 'field-error error small' }));
}

const select = (options, value) => {
  const s = h('select', {}, options.map(([v, text]) => h('option', { value: v, text })));
  s.value = value;
  return s;
};
const named = (root, name) => root.querySelector(`[name="${name}"]`);

function cameraForm(cam) {
  const zones = h('div', { class: 'zones' });
  const rules = h('div', { class: 'rules' });
  const el = h('div', { class: 'camera-form', 'data-camera': cam.id },
    h('h3', { text: 'Zones' }), zones,
    h('button', { type: 'button', class: 'add-zone', onclick: () => { zones.append(zoneEditor({ name: '', kind: 'square', polygon: [] }, el, true)); zoneNamesChanged(el); syncZoneShapes(); } }, 'Add zone'),
    h('h3', { text: 'Rules' }), rules,
    h('button', { type: 'button', class: 'add-rule', onclick: () => {
      const [first] = zoneNames(el);
      rules.append(ruleEditor({ id: '', type: 'intrusion', zone: first || '', enabled: true, version: 1 }, el, true));
    } }, 'Add rule'));
  zones.append(...(cam.zones || []).map((z) => zoneEditor(z, el)));
  rules.append(...(cam.rules || []).map((r) => ruleEditor(r, el)));
  return el;
}

function zoneEditor(z, camEl, fresh = false) {
  const direction = field('direction', 'Direction of travel', h('input', { value: z.direction ? `${z.direction[0]}, ${z.direction[1]}` : '', placeholder: 'dx, dy', size: 10 }), 'image axes, e.g. 0, 1 = downwards');
  const kind = select(ZONE_KINDS.map((k) => [k, k === 'line' ? 'counting line' : k.replaceAll('_', ' ')]), z.kind);
  // A counting line is a polyline (`points`); every other kind is an area (`polygon`), which
  // may count entries and occupancy too.
  const points = field('points', 'Line', h('textarea', { rows: 3, cols: 18, spellcheck: 'false', placeholder: 'x, y\nx, y' }, formatPoints(z.points)),
    'one point per row, first to last: crossing from its left to its right, looking along it, is "in"');
  const polygon = field('polygon', 'Polygon', h('textarea', { rows: 4, cols: 18, spellcheck: 'false', placeholder: 'x, y\nx, y\nx, y' }, formatPoints(z.polygon)),
    'one point per row: x, y in pixels (or 0–1 of the picture)');
  const count = field('count', 'Count', h('input', { type: 'checkbox', checked: !!z.count }), 'entries and mean occupancy per class, for the statistics');
  const showDirection = () => {
    direction.hidden = kind.value !== 'lane';
    points.hidden = kind.value !== 'line';
    polygon.hidden = kind.value === 'line';
    count.hidden = kind.value === 'line';
  };
  kind.addEventListener('change', showDirection);
  const name = h('input', { value: z.name, size: 16, oninput: () => { zoneNamesChanged(camEl); syncZoneShapes(); } });
  const draw = h('button', { type: 'button', class: 'draw-zone', onclick: () => drawZone(el) }, t('Draw on picture'));
  const el = h('fieldset', { class: 'zone', 'data-zone': z.name },
    h('legend', { text: fresh ? 'New zone' : `Zone ${z.name}` }),
    h('div', { class: 'row' }, field('name', 'Name', name), field('kind', 'Kind', kind), draw,
      h('button', { type: 'button', class: 'link remove', onclick: () => { el.remove(); zoneNamesChanged(camEl); syncZoneShapes(); } }, 'Remove')),
    polygon, points, count, direction);
  named(polygon, 'polygon').addEventListener('input', syncZoneShapes);
  kind.addEventListener('change', syncZoneShapes);
  el._orig = fresh ? null : z;
  showDirection();
  return el;
}

/** Zone names as typed now, offered by every rule's zone list (a missing one stays selectable). */
const zoneNames = (camEl) => [...camEl.querySelectorAll('.zone [name="name"]')].map((i) => i.value.trim()).filter((n) => n);

function zoneNamesChanged(camEl) {
  const names = zoneNames(camEl);
  for (const s of camEl.querySelectorAll('.rule select[name="zone"]')) fillZones(s, names, s.value);
}

function fillZones(s, names, current) {
  const opts = names.map((n) => h('option', { value: n, text: n }));
  if (current && !names.includes(current)) opts.push(h('option', { value: current, text: `${current} (no such zone)` }));
  s.replaceChildren(...opts);
  s.value = current;
}

function ruleEditor(r, camEl, fresh = false) {
  const type = select(EVENT_TYPES.map((t) => [t, t.replaceAll('_', ' ')]), r.type);
  const zone = h('select');
  fillZones(zone, zoneNames(camEl), r.zone);
  const id = h('input', { value: r.id, size: 16 });
  const params = h('div', { class: 'params' });
  const el = h('fieldset', { class: 'rule', 'data-rule': r.id },
    h('legend', { text: fresh ? 'New rule' : `Rule ${r.id}` }),
    h('div', { class: 'row' }, field('id', 'Id', id), field('type', 'Type', type), field('zone', 'Zone', zone),
      field('enabled', 'Enabled', h('input', { type: 'checkbox', checked: r.enabled !== false })),
      field('version', 'Version', h('input', { type: 'number', min: 1, step: 1, value: r.version ?? 1, class: 'narrow' }), 'raised on save when the rule changed'),
      h('button', { type: 'button', class: 'link remove', onclick: () => el.remove() }, 'Remove')),
    field('legal_basis', 'Legal basis', h('input', { value: r.legal_basis || '', size: 60, placeholder: 'decision or article that authorises this rule' })),
    field('schedule', 'Schedule', h('textarea', { rows: 2, cols: 30, spellcheck: 'false', placeholder: 'always' }, (r.schedule || []).join('\n')),
      'one window per row, local time: 10:00-19:00 or mon-fri 07:00-09:00; empty = always'),
    params);
  el._orig = fresh ? null : r;
  const showParams = () => {
    // Values typed for a parameter the new type also takes are kept.
    const typed = Object.fromEntries([...params.querySelectorAll('[name]')].map((c) => [c.name, c.value]));
    params.replaceChildren(...paramsFor(type.value).map((p) => paramField(p, type.value, typed[p.key] ?? paramText(p, r[p.key]))));
  };
  type.addEventListener('change', showParams);
  showParams();
  return el;
}

const paramText = (p, v) => (v === undefined || v === null ? '' : p.kind === 'list' ? v.join(', ') : String(v));

function paramField(p, type, text) {
  const fallback = p.fallback(type);
  const control = p.kind === 'bool'
    ? select([['', `default (${fallback})`], ['true', 'yes'], ['false', 'no']], text)
    : h('input', { value: text, size: p.kind === 'list' ? 30 : 8, placeholder: `default: ${fallback}`, inputmode: p.kind === 'list' ? null : 'decimal' });
  return field(p.key, p.label, control, p.kind === 'bool' ? null : p.unit);
}

const omit = (o, keys) => Object.fromEntries(Object.entries(o || {}).filter(([k]) => !keys.includes(k)));

/**
 * The configuration as the forms say, and where each key the server may name is shown.
 * Text that cannot be read (a point that is not two numbers) is reported here, before sending.
 */
function collect() {
  const targets = new Map();
  const problems = [];
  const cameras = cfg.loaded.cameras.map((cam, ci) => {
    const camEl = document.querySelector(`#config-forms > .camera-form[data-camera="${CSS.escape(cam.id)}"]`);
    const read = (root, name, keys, parse = (t) => t) => {
      const f = root.querySelector(`.field[data-field="${name}"]`);
      for (const k of keys(name)) targets.set(k, f);
      try { return parse(named(f, name).value); } catch (e) {
        if (!(e instanceof FieldError)) throw e;
        problems.push([f, e.message]);
        return undefined;
      }
    };
    const zones = [...camEl.querySelectorAll('.zones > .zone')].map((el, zi) => {
      const name = named(el, 'name').value.trim();
      const keys = (f) => errorKeys(ci, cam.id, 'zones', zi, name, f);
      const z = { ...omit(el._orig, ZONE_KEYS), name: read(el, 'name', keys, (t) => t.trim()), kind: read(el, 'kind', keys) };
      if (z.kind === 'line') {
        z.points = read(el, 'points', keys, (t) => parsePoints(t, 'points')) || [];
      } else {
        z.polygon = read(el, 'polygon', keys, (t) => parsePoints(t, 'polygon')) || [];
        if (named(el.querySelector('.field[data-field="count"]'), 'count').checked) z.count = true;
        for (const k of keys('count')) targets.set(k, el.querySelector('.field[data-field="count"]'));
      }
      const dir = read(el, 'direction', keys, (t) => (z.kind === 'lane' && t.trim() ? parsePair(t.trim(), 'direction') : undefined));
      if (dir) z.direction = dir;
      return z;
    });
    const rules = [...camEl.querySelectorAll('.rules > .rule')].map((el, ri) => {
      const id = named(el, 'id').value.trim();
      const keys = (f) => errorKeys(ci, cam.id, 'rules', ri, id, f);
      const r = { ...omit(el._orig, RULE_KEYS), id: read(el, 'id', keys, (t) => t.trim()), type: read(el, 'type', keys), zone: read(el, 'zone', keys) };
      r.enabled = named(el, 'enabled').checked;
      for (const k of keys('enabled')) targets.set(k, el.querySelector('.field[data-field="enabled"]'));
      const legal = read(el, 'legal_basis', keys, (t) => t.trim());
      if (legal) r.legal_basis = legal;
      const version = read(el, 'version', keys, (t) => parseNumber(t, 'version', true));
      if (version !== undefined) r.version = version;
      const schedule = read(el, 'schedule', keys, (t) => t.split('\n').map((s) => s.trim()).filter((s) => s));
      if (schedule && schedule.length) r.schedule = schedule;
      for (const p of paramsFor(r.type)) {
        const v = read(el, p.key, keys, (t) => (p.kind === 'list' ? parseList(t)
          : p.kind === 'bool' ? (t === '' ? undefined : t === 'true')
            : parseNumber(t, p.key, p.kind === 'integer')));
        if (v !== undefined) r[p.key] = v;
      }
      // Every event carries its rule's version: an edited rule gets a new one unless the
      // administrator set it.
      const o = el._orig;
      if (o && r.version === (o.version ?? 1) && !sameJson({ ...r, version: 0 }, { ...o, version: 0 })) r.version = (o.version ?? 1) + 1;
      return r;
    });
    return { ...cam, zones, rules };
  });
  return { body: { ...cfg.loaded, events: collectEvents(targets), cameras }, targets, problems };
}

function clearFieldErrors() {
  for (const f of document.querySelectorAll('#view-config .field.invalid')) {
    f.classList.remove('invalid');
    f._messages = [];
    f.querySelector('.field-error').textContent = '';
  }
  $('#config-errors').replaceChildren();
}

function showFieldError(f, message) {
  f.classList.add('invalid');
  // Each camera's validation may repeat a city-wide error; say it once.
  f._messages = f._messages || [];
  if (f._messages.includes(message)) return;
  f._messages.push(message);
  f.querySelector('.field-error').textContent = f._messages.join(' — ');
}

/** Errors whose key matches no field (the time zone, calibration, …) are listed under the form. */
function showErrors(errors, targets) {
  let first = null;
  for (const { key, message } of errors) {
    // A point's key (`….polygon[2]`) is shown at its polygon field, naming the point.
    const f = targets.get(key) || targets.get(key.replace(/\[\d+\]$/, ''));
    const text = f && !targets.has(key) ? `${key.slice(key.lastIndexOf('.') + 1)}: ${message}` : message;
    if (f) { showFieldError(f, text); first = first || f; } else $('#config-errors').append(h('li', { text: `${key}: ${message}` }));
  }
  if (first) {
    const camera = first.closest('.camera-form');
    if (camera) showCamera(camera.dataset.camera);
    first.scrollIntoView({ block: 'center' });
  }
}

async function apply(body, targets) {
  const msg = $('#config-msg');
  msg.textContent = '';
  try {
    if (zd.editor && zd.editor.drawing) zd.editor.cancel();
    showConfig(await api('PUT', '/api/config', body));
    msg.textContent = t('Applied.');
  } catch (e) {
    msg.textContent = e.message;
    showErrors(e.errors || [], targets);
  }
}

export async function saveConfigForm() {
  if (!cfg.loaded) return;
  clearFieldErrors();
  const { body, targets, problems } = collect();
  if (problems.length) {
    for (const [f, m] of problems) showFieldError(f, m);
    $('#config-msg').textContent = 'Not applied: correct the fields marked in red.';
    return;
  }
  await apply(body, targets);
}

export async function saveConfigJson() {
  clearFieldErrors();
  let body;
  try { body = JSON.parse($('#config-text').value); } catch (e) { $('#config-msg').textContent = `Not valid JSON: ${e.message}`; return; }
  await apply(body, new Map());
}

export function initConfigView() {
  initMasks();
  initZoneDrawing();
  $('#config-camera').addEventListener('change', (ev) => showCamera(ev.target.value));
  $('#config-save').addEventListener('click', saveConfigForm);
  $('#config-json-save').addEventListener('click', saveConfigJson);
}
