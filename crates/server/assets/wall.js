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

export async function startWall() {
  stopWall();
  const wall = $('#wall');
  let cams;
  try { cams = (await api('GET', '/api/cameras')).cameras; } catch (e) { wall.replaceChildren(h('p', { class: 'error', text: e.message })); return; }
  wall.replaceChildren(...cams.map((c) => h('div', { class: 'card', 'data-camera': c.id },
    h('img', { class: 'live', alt: `live view of ${c.name}`, src: `/api/cameras/${enc(c.id)}/live?t=${Date.now()}` }),
    h('div', {}, h('strong', { text: c.name }), ' ', h('span', { class: 'health small' })),
    h('div', { class: 'small muted', text: c.zones.length ? `zones: ${c.zones.map((z) => z.name).join(', ')}` : 'no zone' }))));
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
