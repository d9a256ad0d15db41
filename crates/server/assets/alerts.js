// The alert queue: the list of alerts, kept current by the server's event stream (no polling),
// and the sound and banner that announce a new one.
import { api, can } from './api.js';
import { $, fmtTime, h, round } from './dom.js';

/** Alerts by id, the one shown in the detail pane, and how many arrived since the last look. */
export const queue = { alerts: new Map(), selected: null, unseen: 0 };

export const listeners = { select: () => {}, update: () => {} };
/** `select(id)` when the operator opens an alert, `update(id)` when the server changes one. */
export function onAlertEvents(l) { Object.assign(listeners, l); }

const OPEN = ['new', 'confirmed', 'dispatched'];

function sortKey(a) {
  return [OPEN.includes(a.state) ? 1 : 0, a.state === 'new' ? 1 : 0, a.urgency, a.started_at_ms];
}

export function renderQueue() {
  const showClosed = $('#show-closed').checked;
  const list = [...queue.alerts.values()].filter((a) => showClosed || OPEN.includes(a.state));
  list.sort((x, y) => { const a = sortKey(x), b = sortKey(y); for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return b[i] - a[i]; return 0; });
  $('#queue').replaceChildren(...list.map(alertRow));
  $('#queue-empty').hidden = list.length > 0;
}

function alertRow(a) {
  const thumb = can('evidence') && a.snapshot_url ? h('img', { src: a.snapshot_url, alt: 'snapshot', loading: 'lazy' }) : h('div', { class: 'muted small', text: 'no picture' });
  return h('li', { 'data-id': a.id, class: `u${a.urgency}` + (a.id === queue.selected ? ' selected' : '') + (a._fresh ? ' fresh' : ''), onclick: () => selectAlert(a.id) },
    thumb,
    h('div', {},
      h('div', { class: 'title', text: a.type.replaceAll('_', ' ') }),
      h('div', { class: 'small', text: `${a.camera} · ${a.zone}` }),
      h('div', { class: 'small muted', text: `${fmtTime(a.started_at_ms)} · ${a.peak.kind} ${round(a.peak.value)}` }),
      h('span', { class: `state ${a.state}`, text: a.state })));
}

/** Replaces or adds an alert as the server returned it, and redraws the queue. */
export function putAlert(a) {
  queue.alerts.set(a.id, a);
  renderQueue();
}

export async function loadAlerts() {
  try {
    const r = await api('GET', '/api/alerts?limit=300');
    queue.alerts = new Map(r.alerts.map((a) => [a.id, a]));
    renderQueue();
  } catch (e) { $('#queue-empty').textContent = e.message; }
}

export async function selectAlert(id) {
  queue.selected = id;
  queue.unseen = 0; document.title = 'Vigie console';
  const a = queue.alerts.get(id); if (a) a._fresh = false;
  renderQueue();
  await listeners.select(id);
}

let audioCtx = null;
let bannerTimer = null;
export function cue(a) {
  queue.unseen += 1;
  document.title = `(${queue.unseen}) Vigie console`;
  const banner = $('#arrival');
  banner.textContent = `New alert: ${a.type.replaceAll('_', ' ')} — ${a.camera}`;
  banner.hidden = false;
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(() => { banner.hidden = true; }, 8000);
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
