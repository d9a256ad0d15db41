// The camera wall, built to scale to a city: cameras by sector and by page (1, 4, 9 or 16
// tiles), and only the tiles on screen fetch pictures. A tile off the page does not exist, a
// tile scrolled out of view (IntersectionObserver) or a hidden tab fetches nothing, and a slow
// picture is never asked for twice. A tile opens a large view: the live picture and the last
// minutes of the camera's footage in the evidence player (pixelated like every picture).
// Tiles of cameras with unhandled alerts carry a written badge and an outline, from the queue's
// `vigie:unhandled` events (`detail.cameras`: camera ids).
import { api } from './api.js';
import { clipPlayer } from './clip.js';
import { $, enc, h, round } from './dom.js';
import { register, t } from './i18n.js';

register({
  'Sector': 'Secteur',
  'All my sectors': 'Tous mes secteurs',
  'No sector': 'Sans secteur',
  'No camera in your sectors.': 'Aucune caméra dans vos secteurs.',
  'Tiles per page': 'Vignettes par page',
  'Previous page': 'Page précédente',
  'Next page': 'Page suivante',
  'Page {page} of {pages} · cameras {first}–{last} of {total}': 'Page {page} sur {pages} · caméras {first} à {last} sur {total}',
  'connected': 'connectée',
  'disconnected': 'déconnectée',
  'NOT RECORDING': 'N’ENREGISTRE PAS',
  'last error: {e}': 'dernière erreur : {e}',
  'storage: {s}': 'stockage : {s}',
  'Unhandled alert': 'Alerte non traitée',
  'Open {name}': 'Ouvrir {name}',
  '{name}, unhandled alert': '{name}, alerte non traitée',
  'Live picture of {name}': 'Image en direct de {name}',
  'Live': 'Direct',
  'Last {n} minutes': '{n} dernières minutes',
  'Close': 'Fermer',
  'zones: {list}': 'zones : {list}',
  'no zone': 'aucune zone',
});

/** How far back the large view plays: what the rolling buffer holds, then the archive. */
const REPLAY_MS = 2 * 60_000;
const SIZES = [1, 4, 9, 16];
const REFRESH_MS = 1000;

const state = {
  cams: [], sectors: [], page: 0, timer: null, observer: null,
  /** Tiles in view, by camera id. */
  visible: new Set(),
  /** Cameras with an unhandled alert (the queue's latest word). */
  unhandled: new Set(),
  large: null,
};

const stored = (k, d) => { try { return localStorage.getItem(k) ?? d; } catch (_) { return d; } };
const keep = (k, v) => { try { localStorage.setItem(k, v); } catch (_) { /* no storage */ } };

function pageSize() {
  const n = Number($('#wall-size').value);
  return SIZES.includes(n) ? n : 9;
}

function healthText(c) {
  const hl = c.health || {};
  const storage = (hl.storage_alerts || []).join('; ');
  const parts = [hl.connected ? t('connected') : t('disconnected')];
  if (hl.fps !== undefined) parts.push(`${round(hl.fps)} fps`);
  if (hl.last_error) parts.push(t('last error: {e}', { e: hl.last_error }));
  if (hl.recording === false) parts.push(t('NOT RECORDING') + (hl.recording_error ? `: ${hl.recording_error}` : ''));
  if (storage) parts.push(t('storage: {s}', { s: storage }));
  return { text: parts.join(' · '), ok: hl.connected && hl.recording !== false && !storage };
}

function showHealth(cams) {
  for (const c of cams) {
    const el = document.querySelector(`#wall [data-camera="${CSS.escape(c.id)}"] .health`);
    if (!el) continue;
    const { text, ok } = healthText(c);
    el.textContent = text;
    el.className = `health small ${ok ? 'ok' : 'bad'}`;
  }
}

function markTile(tile) {
  const id = tile.dataset.camera;
  const on = state.unhandled.has(id);
  tile.classList.toggle('has-alert', on);
  tile.querySelector('.wall-badge').hidden = !on;
  const name = tile.dataset.name;
  tile.querySelector('.wall-open').setAttribute('aria-label', on ? t('{name}, unhandled alert', { name }) : t('Open {name}', { name }));
}

function tile(c) {
  const img = h('img', { class: 'live', alt: t('Live picture of {name}', { name: c.name }) });
  const el = h('figure', { class: 'card wall-tile', 'data-camera': c.id, 'data-name': c.name },
    h('button', { type: 'button', class: 'wall-open', onclick: () => openLarge(c) },
      img,
      h('span', { class: 'wall-badge', hidden: true, text: t('Unhandled alert') })),
    h('figcaption', {},
      // The camera's id is its short name, the one the alert queue and detail pane show.
      h('strong', { class: 'wall-id', text: c.id }), ' ', h('span', { class: 'wall-name small muted', text: c.name }), ' ',
      h('span', { class: 'health small' }),
      h('div', { class: 'small muted', text: c.zones.length ? t('zones: {list}', { list: c.zones.map((z) => z.name).join(', ') }) : t('no zone') })));
  markTile(el);
  return el;
}

/** The cameras the sector selector keeps, in sector order, each with its group's id and name. */
function selected() {
  const only = $('#wall-sector').value || '*';
  const groups = state.sectors.map((s) => [s.id, s.name]).concat([['', t('No sector')]]);
  const out = [];
  for (const [id, name] of groups) {
    if (only !== '*' && only !== id) continue;
    for (const c of state.cams.filter((x) => (x.sector || '') === id)) out.push([id, name, c]);
  }
  return out;
}

function render() {
  const wall = $('#wall');
  if (state.observer) state.observer.disconnect();
  state.visible.clear();
  const list = selected();
  const size = pageSize();
  const pages = Math.max(1, Math.ceil(list.length / size));
  state.page = Math.min(Math.max(0, state.page), pages - 1);
  const shown = list.slice(state.page * size, (state.page + 1) * size);
  const label = $('#wall-page');
  label.textContent = list.length ? t('Page {page} of {pages} · cameras {first}–{last} of {total}',
    { page: state.page + 1, pages, first: state.page * size + 1, last: state.page * size + shown.length, total: list.length }) : '';
  $('#wall-prev').disabled = state.page === 0;
  $('#wall-next').disabled = state.page >= pages - 1;
  if (!list.length) { wall.replaceChildren(h('p', { class: 'muted', text: t('No camera in your sectors.') })); return; }
  // Sector headings stay on every page, over that page's cameras of the sector.
  const groups = new Map();
  for (const [id, name, c] of shown) {
    if (!groups.has(id)) groups.set(id, { name, tiles: [] });
    groups.get(id).tiles.push(tile(c));
  }
  wall.replaceChildren(...[...groups].map(([id, g]) => h('section', { class: 'sector-group', 'data-sector': id },
    h('h3', { text: g.name }), h('div', { class: `wall-grid wall-size-${size}` }, ...g.tiles))));
  state.observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const id = e.target.dataset.camera;
      if (e.isIntersecting) { state.visible.add(id); refreshTile(e.target); } else state.visible.delete(id);
    }
  });
  for (const el of wall.querySelectorAll('.wall-tile')) state.observer.observe(el);
  showHealth(state.cams);
}

const liveUrl = (id) => `/api/cameras/${enc(id)}/live?t=${Date.now()}`;

/** Loads the next picture off-screen, then swaps: no flicker, no pile-up on a slow link. */
function refreshImg(img, id) {
  if (img.dataset.loading) return;
  img.dataset.loading = '1';
  const next = new Image();
  const url = liveUrl(id);
  next.onload = () => { img.src = url; delete img.dataset.loading; };
  next.onerror = () => { delete img.dataset.loading; };
  next.src = url;
}

function refreshTile(el) {
  if (document.hidden || state.large) return;
  refreshImg(el.querySelector('img.live'), el.dataset.camera);
}

function refreshAll() {
  if (document.hidden) return;
  if (state.large) { refreshImg(state.large.img, state.large.id); return; }
  for (const id of state.visible) {
    const el = document.querySelector(`#wall .wall-tile[data-camera="${CSS.escape(id)}"]`);
    if (el) refreshTile(el);
  }
}

// ---- large view ----
function openLarge(c) {
  closeLarge();
  const dlg = $('#wall-large');
  const img = h('img', { class: 'live', alt: t('Live picture of {name}', { name: c.name }) });
  const now = Date.now();
  const player = clipPlayer(`/api/cameras/${enc(c.id)}/clip?from=${now - REPLAY_MS}&to=${now}`);
  dlg.replaceChildren(
    h('div', { class: 'row' },
      h('h2', { id: 'wall-large-title', text: c.name }),
      state.unhandled.has(c.id) ? h('span', { class: 'wall-badge', text: t('Unhandled alert') }) : null,
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', id: 'wall-large-close', onclick: () => dlg.close() }, t('Close'))),
    h('div', { class: 'wall-large-body' },
      h('section', {}, h('h3', { text: t('Live') }), img),
      h('section', {}, h('h3', { text: t('Last {n} minutes', { n: REPLAY_MS / 60_000 }) }), player)));
  dlg.dataset.camera = c.id;
  state.large = { id: c.id, img, player, opener: document.activeElement };
  dlg.onclose = closeLarge;
  dlg.showModal();
  refreshImg(img, c.id);
}

function closeLarge() {
  const l = state.large;
  if (!l) return;
  state.large = null;
  if (l.player.player) l.player.player.stop();
  const dlg = $('#wall-large');
  if (dlg.open) dlg.close();
  dlg.replaceChildren();
  if (l.opener && l.opener.isConnected) l.opener.focus();
  refreshAll();
}

// ---- unhandled alerts, from the queue ----
document.addEventListener('vigie:unhandled', (e) => {
  state.unhandled = new Set((e.detail && e.detail.cameras) || []);
  for (const el of document.querySelectorAll('#wall .wall-tile')) markTile(el);
});

document.addEventListener('visibilitychange', () => { if (!document.hidden && state.timer) refreshAll(); });

export async function startWall() {
  stopWall();
  const wall = $('#wall');
  try { ({ cameras: state.cams, sectors: state.sectors } = await api('GET', '/api/cameras')); } catch (e) {
    wall.replaceChildren(h('p', { class: 'error', text: e.message })); return;
  }
  for (const [id, text] of [['#wall-sector-label', 'Sector'], ['#wall-size-label', 'Tiles per page'],
    ['#wall-prev-label', 'Previous page'], ['#wall-next-label', 'Next page']]) $(id).textContent = t(text);
  const pick = $('#wall-sector');
  const present = state.sectors.filter((s) => state.cams.some((c) => c.sector === s.id));
  const options = [['*', t('All my sectors')], ...present.map((s) => [s.id, s.name])];
  if (state.cams.some((c) => !c.sector)) options.push(['', t('No sector')]);
  const was = pick.value || stored('vigie.wall.sector', '*');
  pick.replaceChildren(...options.map(([v, label]) => h('option', { value: v, text: label })));
  pick.value = options.some(([v]) => v === was) ? was : '*';
  $('#wall-sector-pick').hidden = options.length <= 2;
  pick.onchange = () => { keep('vigie.wall.sector', pick.value); state.page = 0; render(); };
  const size = $('#wall-size');
  if (!size.options.length) size.replaceChildren(...SIZES.map((n) => h('option', { value: n, text: String(n) })));
  size.value = String(SIZES.includes(Number(stored('vigie.wall.size', 9))) ? stored('vigie.wall.size', 9) : 9);
  size.onchange = () => { keep('vigie.wall.size', size.value); state.page = 0; render(); };
  $('#wall-prev').onclick = () => { state.page -= 1; render(); };
  $('#wall-next').onclick = () => { state.page += 1; render(); };
  render();
  let tick = 0;
  state.timer = setInterval(async () => {
    refreshAll();
    if (++tick % 5 === 0 && !document.hidden) {
      try { showHealth((await api('GET', '/api/cameras')).cameras); } catch (_) { /* shown next time */ }
    }
  }, REFRESH_MS);
}

export function stopWall() {
  if (state.timer) { clearInterval(state.timer); state.timer = null; }
  if (state.observer) { state.observer.disconnect(); state.observer = null; }
  state.visible.clear();
  closeLarge();
}
