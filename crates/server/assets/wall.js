// The camera wall: a low-rate live picture per camera, refreshed off-screen, and camera health.
import { api } from './api.js';
import { $, enc, h, round } from './dom.js';

let timer = null;

function showHealth(wall, cams) {
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
}

function card(c) {
  return h('div', { class: 'card', 'data-camera': c.id },
    h('img', { class: 'live', alt: `live view of ${c.name}`, src: `/api/cameras/${enc(c.id)}/live?t=${Date.now()}` }),
    h('div', {}, h('strong', { text: c.name }), ' ', h('span', { class: 'health small' })),
    h('div', { class: 'small muted', text: c.zones.length ? `zones: ${c.zones.map((z) => z.name).join(', ')}` : 'no zone' }));
}

// The server sends only the cameras of the user's sectors; the wall groups them by sector, and
// the selector narrows it to one. Pictures are loaded only for the cameras shown.
function renderGroups(wall, cams, sectors, only) {
  const groups = sectors.map((s) => [s.id, s.name, cams.filter((c) => c.sector === s.id)]);
  groups.push(['', 'No sector', cams.filter((c) => !c.sector)]);
  wall.replaceChildren(...groups.filter(([id, , list]) => list.length && (only === '*' || only === id))
    .map(([id, name, list]) => h('section', { class: 'sector-group', 'data-sector': id },
      h('h3', { text: `${name} (${list.length})` }), h('div', { class: 'grid' }, ...list.map(card)))));
  if (!wall.children.length) wall.append(h('p', { class: 'muted', text: 'No camera in your sectors.' }));
}

export async function startWall() {
  stopWall();
  const wall = $('#wall');
  let cams; let sectors;
  try { ({ cameras: cams, sectors } = await api('GET', '/api/cameras')); } catch (e) { wall.replaceChildren(h('p', { class: 'error', text: e.message })); return; }
  const pick = $('#wall-sector');
  const present = sectors.filter((s) => cams.some((c) => c.sector === s.id));
  const options = [['*', 'All my sectors'], ...present.map((s) => [s.id, s.name])];
  if (cams.some((c) => !c.sector)) options.push(['', 'No sector']);
  const was = pick.value || '*';
  pick.replaceChildren(...options.map(([v, label]) => h('option', { value: v, text: label })));
  pick.value = options.some(([v]) => v === was) ? was : '*';
  $('#wall-sector-pick').hidden = options.length <= 2;
  pick.onchange = () => startWall();
  renderGroups(wall, cams, sectors, pick.value);
  showHealth(wall, cams);
  let tick = 0;
  timer = setInterval(async () => {
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
    if (++tick % 5 === 0) { try { showHealth(wall, (await api('GET', '/api/cameras')).cameras); } catch (_) { /* shown next time */ } }
  }, 1000);
}

export function stopWall() { if (timer) { clearInterval(timer); timer = null; } }
