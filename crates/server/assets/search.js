// Archive search: free text and filters, results as thumbnails, a hit plays its footage.
import { api } from './api.js';
import { clipPlayer } from './clip.js';
import { $, enc, fmtTime, h } from './dom.js';

export async function doSearch(ev) {
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
