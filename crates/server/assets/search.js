// Archive search: free text and filters, results as thumbnails; a hit's footage plays right
// under its row of results, not at the bottom of the page. Dates are the city's days: the
// server reads them in the city's time zone, and one day (from = to) is that whole day.
import { api } from './api.js';
import { clipPlayer } from './clip.js';
import { $, enc, fmtTime, h } from './dom.js';
import { register, t } from './i18n.js';

register({
  '{n} result(s)': '{n} résultat(s)',
  'understood as: {what}': 'compris comme : {what}',
  'all cameras': 'toutes les caméras',
  '{cls} on {camera}': '{cls} sur {camera}',
  'Close': 'Fermer',
  'Play the footage of this {cls} ({camera}, {time})': 'Voir les images de ce {cls} ({camera}, {time})',
  'No result.': 'Aucun résultat.',
  'Searching…': 'Recherche…',
});

const st = { cameras: null, open: null, player: null };
// The player moves into the results grid; kept here so a new search does not lose it.
const playerEl = () => st.player || (st.player = $('#search-player'));

/** Fills the camera list (names as the wall shows them) once per session. */
export async function initSearch() {
  if (st.cameras) return;
  const sel = $('#search-camera');
  try {
    const r = await api('GET', '/api/cameras');
    st.cameras = r.cameras;
    sel.replaceChildren(h('option', { value: '', text: t('all cameras') }),
      ...r.cameras.map((c) => h('option', { value: c.id, text: c.name && c.name !== c.id ? `${c.name} (${c.id})` : c.id })));
  } catch (_) { /* the free-text field still names cameras */ }
}

const cameraName = (id) => {
  const c = (st.cameras || []).find((x) => x.id === id);
  return c && c.name ? c.name : id;
};

export async function doSearch(ev) {
  ev.preventDefault();
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(ev.target)) if (v) params.set(k, v);
  const info = $('#search-info'), out = $('#search-results');
  info.textContent = t('Searching…');
  closePlayer();
  out.after(playerEl());
  try {
    const r = await api('GET', `/api/search?${params}`);
    const understood = (r.understood || []).join(' · ');
    info.textContent = `${t('{n} result(s)', { n: r.total ?? r.tracks.length })}${understood ? ` — ${t('understood as: {what}', { what: understood })}` : ''}`;
    out.replaceChildren(...r.tracks.map(card));
    if (!r.tracks.length) out.append(h('p', { class: 'muted', text: t('No result.') }));
  } catch (e) { info.textContent = e.message; out.replaceChildren(); }
}

function card(tr) {
  const label = `${tr.class}${tr.color ? ` · ${tr.color}` : ''} · ${cameraName(tr.camera)} · ${fmtTime(tr.start_ms)}`;
  const btn = h('button', {
    type: 'button', class: 'card search-hit', 'data-id': tr.id, 'aria-expanded': 'false',
    'aria-label': t('Play the footage of this {cls} ({camera}, {time})', { cls: tr.class, camera: cameraName(tr.camera), time: fmtTime(tr.start_ms) }),
  },
  tr.thumbnail_url ? h('img', { src: tr.thumbnail_url, alt: '' }) : '',
  h('span', { class: 'small', text: label }));
  btn.addEventListener('click', () => playSearch(tr, btn));
  return btn;
}

function closePlayer() {
  const p = playerEl();
  p.hidden = true;
  p.replaceChildren();
  if (st.open) st.open.setAttribute('aria-expanded', 'false');
  st.open = null;
}

/** Opens the hit's clip right after the last card of its row, so it shows beside the result. */
function playSearch(tr, btn) {
  const player = playerEl();
  if (st.open === btn) { closePlayer(); btn.focus(); return; }
  closePlayer();
  const from = tr.clip_from_ms ?? tr.start_ms - 5000, to = Math.min(tr.clip_to_ms ?? tr.end_ms + 5000, from + 600000);
  const close = h('button', { type: 'button', class: 'link', onclick: () => { closePlayer(); btn.focus(); } }, t('Close'));
  player.replaceChildren(
    h('div', { class: 'row' }, h('h3', { id: 'search-player-title', text: t('{cls} on {camera}', { cls: tr.class, camera: cameraName(tr.camera) }) }), close),
    clipPlayer(`/api/cameras/${enc(tr.camera)}/clip?from=${from}&to=${to}`));
  // The grid row's last card: the player spans the row below the clicked one.
  let last = btn;
  for (let n = btn.nextElementSibling; n && n.offsetTop === btn.offsetTop; n = n.nextElementSibling) last = n;
  last.after(player);
  player.hidden = false;
  st.open = btn;
  btn.setAttribute('aria-expanded', 'true');
  player.scrollIntoView({ block: 'nearest' });
}
