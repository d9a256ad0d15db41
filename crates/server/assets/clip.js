// The evidence player, for alert clips, search hits and the wall's large view. Archive clips are
// MP4 files; the rolling buffer's pictures arrive as MJPEG (multipart), unpacked here so that one
// request (one audit entry) plays them, and kept in memory with their times so that the operator
// can pause, seek and step one picture at a time. Zoom (2×, 4×, dragged to pan), full screen,
// the camera's own resolution on request, and an audited export for those allowed.
import { MjpegParser, boundaryOf, isJpeg } from './mjpeg.js';
import { can } from './api.js';
import { enc, h } from './dom.js';
import { register, t } from './i18n.js';

register({
  'Loading footage…': 'Chargement des images…',
  'No footage: {msg}': 'Pas d’images : {msg}',
  'Play': 'Lecture', 'Pause': 'Pause',
  'Previous picture': 'Image précédente', 'Next picture': 'Image suivante',
  'Position in the clip': 'Position dans l’extrait',
  'Zoom': 'Zoom', 'Full screen': 'Plein écran',
  'Full resolution': 'Pleine résolution',
  'Reduced pictures (instant buffer)': 'Images réduites (mémoire immédiate)',
  'Camera resolution': 'Résolution de la caméra',
  'picture {n} of {total}': 'image {n} sur {total}',
  '{total} pictures received': '{total} images reçues',
  'Export': 'Exporter',
  'Exporting…': 'Export en cours…',
  'Exported {file} (SHA-256 {sha})': 'Exporté {file} (SHA-256 {sha})',
  'Unmask reason (empty: people pixelated)': 'Motif du démasquage (vide : personnes pixelisées)',
  'Evidence player: Space plays or pauses, ←/→ one picture, +/− zoom, F full screen':
    'Lecteur de preuves : Espace lecture/pause, ←/→ une image, +/− zoom, F plein écran',
  'event picture': 'image de l’événement',
  'event clip': 'extrait de l’événement',
  'Drag to move the zoomed picture': 'Faire glisser pour déplacer l’image agrandie',
});

const ZOOMS = [1, 2, 4];
/** Assumed picture period of archive MP4s when stepping (their rate is not exposed by <video>). */
const VIDEO_STEP_S = 1 / 25;

const fmtS = (s) => `${(Math.max(0, s) || 0).toFixed(1)} s`;

/** The export address for a clip of `/api/cameras/{id}/clip?from&to`, or for `exportOf`. */
function exportUrl(url, exportOf) {
  if (exportOf) return `/api/cameras/${enc(exportOf.camera)}/export?from=${exportOf.from}&to=${exportOf.to}`;
  const m = /^\/api\/cameras\/([^/]+)\/clip\?(.*)$/.exec(url);
  if (!m) return null;
  const p = new URLSearchParams(m[2]);
  if (!p.get('from') || !p.get('to')) return null;
  return `/api/cameras/${m[1]}/export?from=${enc(p.get('from'))}&to=${enc(p.get('to'))}`;
}

const withFull = (url) => (/[?&]full=true/.test(url) ? url : `${url}${url.includes('?') ? '&' : '?'}full=true`);

/**
 * The player for `url`. `opts.exportOf`: `{ camera, from, to }` (Unix ms) of the footage, for the
 * export button when `url` does not say it (alert clips).
 */
export function clipPlayer(url, opts = {}) {
  const box = h('div', { id: 'clip-box', class: 'clip-player' }, h('p', { class: 'muted small', text: t('Loading footage…') }));
  const p = new Player(box, url, opts);
  box.player = p;
  p.load(url);
  return box;
}

class Player {
  constructor(box, url, opts) {
    Object.assign(this, { box, url, opts, frames: [], fps: 2, index: 0, playing: true, zoom: 1, pan: [0, 0] });
    this.abort = null;
    this.timer = null;
    /** Which load is current: a replaced one (full resolution asked) stops touching the player. */
    this.gen = 0;
  }

  stop() {
    if (this.abort) this.abort.abort();
    clearTimeout(this.timer);
    for (const f of this.frames) URL.revokeObjectURL(f.url);
    if (this.videoUrl) URL.revokeObjectURL(this.videoUrl);
    this.frames = [];
  }

  async load(url) {
    this.stop();
    const gen = ++this.gen;
    this.url = url;
    this.abort = new AbortController();
    let r;
    try { r = await fetch(url, { credentials: 'same-origin', signal: this.abort.signal }); } catch (e) {
      if (e.name !== 'AbortError') this.box.replaceChildren(h('p', { class: 'error', text: e.message }));
      return;
    }
    const type = r.headers.get('content-type') || '';
    if (!r.ok) {
      const msg = type.includes('json') ? (await r.json()).error : `HTTP ${r.status}`;
      this.box.replaceChildren(h('p', { class: 'muted', text: t('No footage: {msg}', { msg }) }));
      return;
    }
    if (type.startsWith('image/')) {
      this.videoUrl = URL.createObjectURL(await r.blob());
      this.media = h('img', { class: 'evidence', alt: t('event picture'), src: this.videoUrl });
      this.build('still');
      return;
    }
    if (type.startsWith('video/')) {
      this.videoUrl = URL.createObjectURL(await r.blob());
      this.media = h('video', { class: 'evidence', autoplay: true, muted: true, playsinline: true, src: this.videoUrl });
      this.media.muted = true;
      for (const ev of ['timeupdate', 'play', 'pause', 'loadedmetadata', 'ended']) this.media.addEventListener(ev, () => this.show());
      this.build('video');
      return;
    }
    let parser;
    try { parser = new MjpegParser(boundaryOf(type)); } catch (e) { this.box.replaceChildren(h('p', { class: 'error', text: `${e.message} (${type})` })); return; }
    this.fps = Number(r.headers.get('x-frame-rate')) || 2;
    this.media = h('img', { class: 'evidence', alt: t('event clip') });
    this.build('frames');
    this.tick();
    const reader = r.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || gen !== this.gen) break;
        for (const { body } of parser.push(value)) {
          if (!isJpeg(body)) continue;
          const n = this.frames.length;
          this.frames.push({ url: URL.createObjectURL(new Blob([body], { type: 'image/jpeg' })), t: n / this.fps });
          if (n === 0) this.showFrame(0);
          this.show();
        }
      }
    } catch (e) { if (e.name !== 'AbortError') this.msg.textContent = e.message; }
    if (gen !== this.gen) return;
    this.complete = true;
    this.show();
  }

  /** The controls around the media; `kind` is 'frames', 'video' or 'still'. */
  build(kind) {
    this.kind = kind;
    this.complete = false;
    const btn = (cls, label, text, onclick) => h('button', { type: 'button', class: cls, 'aria-label': label, title: label, onclick }, text);
    this.stage = h('div', { class: 'clip-stage', title: t('Drag to move the zoomed picture') }, this.media);
    this.playBtn = btn('clip-play', t('Pause'), '❚❚', () => this.toggle());
    this.seek = h('input', { type: 'range', class: 'clip-seek', min: 0, max: 0, step: 'any', value: 0, 'aria-label': t('Position in the clip'),
      oninput: () => this.seekTo(Number(this.seek.value)) });
    this.zoomSel = h('select', { class: 'clip-zoom', 'aria-label': t('Zoom'), onchange: () => this.setZoom(Number(this.zoomSel.value)) },
      ZOOMS.map((z) => h('option', { value: z, text: `${z}×` })));
    this.info = h('span', { class: 'clip-info small', 'aria-live': 'off' });
    this.res = h('span', { class: 'clip-res small' });
    this.msg = h('span', { class: 'clip-msg small', role: 'status' });
    const controls = h('div', { class: 'clip-controls row' },
      kind !== 'still' ? [this.playBtn, btn('clip-prev', t('Previous picture'), '◀︎|', () => this.step(-1)),
        btn('clip-next', t('Next picture'), '|▶︎', () => this.step(1)), this.seek] : [],
      this.zoomSel, btn('clip-fullscreen', t('Full screen'), t('Full screen'), () => this.fullscreen()), this.info);
    const extra = h('div', { class: 'clip-extra row' }, this.res);
    if (kind === 'frames') {
      extra.append(btn('clip-full link', t('Full resolution'), t('Full resolution'), () => this.load(withFull(this.url))));
    }
    const ex = can('footage_export') ? exportUrl(this.url.replace(/[?&]full=true/, ''), this.opts.exportOf) : null;
    if (ex) extra.append(this.exportControls(ex));
    extra.append(this.msg);
    this.box.replaceChildren(this.stage, controls, extra);
    this.box.tabIndex = 0;
    this.box.setAttribute('aria-label', t('Evidence player: Space plays or pauses, ←/→ one picture, +/− zoom, F full screen'));
    this.box.onkeydown = (e) => this.key(e);
    this.panning();
    this.media.addEventListener('load', () => this.showRes());
    this.media.addEventListener('loadedmetadata', () => this.showRes());
    this.setZoom(1);
    this.show();
  }

  exportControls(url) {
    const reason = can('unmask') ? h('input', { class: 'clip-unmask-reason', size: 24, 'aria-label': t('Unmask reason (empty: people pixelated)'),
      placeholder: t('Unmask reason (empty: people pixelated)') }) : null;
    const go = h('button', { type: 'button', class: 'clip-export', onclick: async () => {
      const why = reason && reason.value.trim();
      const full = why ? `${url}&unmask_reason=${enc(why)}` : url;
      go.disabled = true; this.msg.textContent = t('Exporting…');
      try {
        const r = await fetch(full, { credentials: 'same-origin' });
        if (!r.ok) {
          const type = r.headers.get('content-type') || '';
          throw new Error(type.includes('json') ? (await r.json()).error : `HTTP ${r.status}`);
        }
        const name = (/filename="([^"]+)"/.exec(r.headers.get('content-disposition') || '') || [])[1] || 'vigie-export.mp4';
        const a = h('a', { href: URL.createObjectURL(await r.blob()), download: name, hidden: true });
        document.body.append(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
        this.msg.textContent = t('Exported {file} (SHA-256 {sha})', { file: name, sha: (r.headers.get('x-content-sha256') || '').slice(0, 16) });
      } catch (e) { this.msg.textContent = e.message; } finally { go.disabled = false; }
    } }, t('Export'));
    return h('span', { class: 'clip-export-box' }, reason, go);
  }

  // ---- playback ----
  duration() {
    if (this.kind === 'video') return Number.isFinite(this.media.duration) ? this.media.duration : 0;
    return this.frames.length ? this.frames[this.frames.length - 1].t : 0;
  }

  position() { return this.kind === 'video' ? this.media.currentTime : (this.frames[this.index] || { t: 0 }).t; }

  /** MJPEG playback at the buffer's rate; a stopped player (removed from the page) ends its fetch. */
  tick() {
    clearTimeout(this.timer);
    if (!this.box.isConnected && this.started) { this.stop(); return; }
    this.started = this.started || this.box.isConnected;
    if (this.playing && this.index + 1 < this.frames.length) this.showFrame(this.index + 1);
    else if (this.playing && this.complete && this.frames.length) { this.playing = false; this.show(); }
    this.timer = setTimeout(() => this.tick(), 1000 / this.fps);
  }

  showFrame(i) {
    if (!this.frames.length) return;
    this.index = Math.max(0, Math.min(this.frames.length - 1, i));
    this.media.src = this.frames[this.index].url;
    this.show();
  }

  toggle() {
    if (this.kind === 'video') { if (this.media.paused) this.media.play().catch(() => {}); else this.media.pause(); return; }
    if (!this.playing && this.index + 1 >= this.frames.length && this.complete) this.showFrame(0);
    this.playing = !this.playing;
    this.show();
  }

  step(d) {
    if (this.kind === 'video') {
      this.media.pause();
      this.media.currentTime = Math.max(0, Math.min(this.duration(), this.media.currentTime + d * VIDEO_STEP_S));
      return;
    }
    this.playing = false;
    this.showFrame(this.index + d);
  }

  seekTo(v) {
    if (this.kind === 'video') { this.media.currentTime = v; return; }
    this.showFrame(Math.round(v * this.fps));
  }

  isPlaying() { return this.kind === 'video' ? !this.media.paused : this.playing; }

  show() {
    if (!this.info) return;
    const playing = this.isPlaying();
    this.playBtn.textContent = playing ? '❚❚' : '▶︎';
    this.playBtn.setAttribute('aria-label', playing ? t('Pause') : t('Play'));
    this.playBtn.title = this.playBtn.getAttribute('aria-label');
    this.playBtn.setAttribute('aria-pressed', String(playing));
    this.seek.max = this.duration();
    this.seek.value = this.position();
    const where = this.kind === 'frames'
      ? ` · ${t('picture {n} of {total}', { n: this.index + 1, total: this.frames.length })}${this.complete ? '' : ` (${t('{total} pictures received', { total: this.frames.length })})`}`
      : '';
    this.info.textContent = `${fmtS(this.position())} / ${fmtS(this.duration())}${where}`;
    this.box.dataset.index = String(this.index);
    this.box.dataset.frames = String(this.frames.length);
    this.box.dataset.playing = String(playing);
  }

  showRes() {
    const w = this.media.naturalWidth || this.media.videoWidth, ht = this.media.naturalHeight || this.media.videoHeight;
    if (!w) return;
    this.res.textContent = `${w}×${ht} · ${this.kind === 'frames' ? t('Reduced pictures (instant buffer)') : t('Camera resolution')}`;
    this.box.dataset.width = String(w);
  }

  // ---- zoom, pan, full screen ----
  setZoom(z) {
    this.zoom = z;
    this.zoomSel.value = String(z);
    this.pan = z === 1 ? [0, 0] : this.pan;
    this.applyZoom();
  }

  applyZoom() {
    // Panning never shows beyond the picture's edges: at zoom z, at most (z-1)/2 of its size.
    const lim = (this.zoom - 1) / (2 * this.zoom);
    this.pan = this.pan.map((v) => Math.max(-lim, Math.min(lim, v)));
    this.media.style.transform = `scale(${this.zoom}) translate(${this.pan[0] * 100}%, ${this.pan[1] * 100}%)`;
    this.stage.classList.toggle('zoomed', this.zoom > 1);
    this.box.dataset.zoom = String(this.zoom);
  }

  panning() {
    let from = null;
    this.stage.addEventListener('pointerdown', (e) => {
      if (this.zoom === 1) return;
      from = [e.clientX, e.clientY, ...this.pan];
      this.stage.setPointerCapture(e.pointerId);
    });
    this.stage.addEventListener('pointermove', (e) => {
      if (!from) return;
      const r = this.stage.getBoundingClientRect();
      this.pan = [from[2] + (e.clientX - from[0]) / (r.width * this.zoom), from[3] + (e.clientY - from[1]) / (r.height * this.zoom)];
      this.applyZoom();
    });
    const end = () => { from = null; };
    this.stage.addEventListener('pointerup', end);
    this.stage.addEventListener('pointercancel', end);
  }

  fullscreen() {
    if (document.fullscreenElement) { document.exitFullscreen().catch(() => {}); return; }
    if (this.box.requestFullscreen) this.box.requestFullscreen().catch((e) => { this.msg.textContent = e.message; });
  }

  key(e) {
    if (e.target.closest('input, select, textarea')) return;
    const shift = e.shiftKey && this.zoom > 1;
    const pan = { ArrowLeft: [0.05, 0], ArrowRight: [-0.05, 0], ArrowUp: [0, 0.05], ArrowDown: [0, -0.05] }[e.key];
    if (shift && pan) { this.pan = [this.pan[0] + pan[0], this.pan[1] + pan[1]]; this.applyZoom(); }
    else if (e.key === ' ' || e.key === 'k') { if (e.target.closest('button')) return; this.toggle(); }
    else if (e.key === 'ArrowLeft' && this.kind !== 'still') this.step(-1);
    else if (e.key === 'ArrowRight' && this.kind !== 'still') this.step(1);
    else if (e.key === '+' || e.key === '=') this.setZoom(ZOOMS[Math.min(ZOOMS.length - 1, ZOOMS.indexOf(this.zoom) + 1)]);
    else if (e.key === '-') this.setZoom(ZOOMS[Math.max(0, ZOOMS.indexOf(this.zoom) - 1)]);
    else if (e.key === 'f' || e.key === 'F') this.fullscreen();
    else return;
    e.preventDefault();
  }
}
