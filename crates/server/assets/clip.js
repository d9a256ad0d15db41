// Footage player for alert clips and search hits. Archive clips are video files; pre-event
// buffers arrive as MJPEG (multipart), unpacked here so that one request (one audit entry)
// plays them.
import { MjpegParser, boundaryOf, isJpeg } from './mjpeg.js';
import { h } from './dom.js';

export function clipPlayer(url) {
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
  if (type.startsWith('image/')) {
    box.replaceChildren(h('img', { class: 'evidence', alt: 'event picture', src: URL.createObjectURL(await r.blob()) }));
    return;
  }
  let parser;
  try { parser = new MjpegParser(boundaryOf(type)); } catch (e) { box.replaceChildren(h('p', { class: 'error', text: `${e.message} (${type})` })); return; }
  const img = h('img', { class: 'evidence', alt: 'event clip' });
  const replay = h('button', { class: 'link', onclick: () => playClip(box, url) }, 'Replay');
  box.replaceChildren(img);
  const reader = r.body.getReader();
  let last = null, frames = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const { body } of parser.push(value)) {
      if (!isJpeg(body)) continue;
      const u = URL.createObjectURL(new Blob([body], { type: 'image/jpeg' }));
      img.src = u; frames += 1;
      if (last) URL.revokeObjectURL(last);
      last = u;
    }
  }
  box.append(h('div', { class: 'small muted' }, `${frames} pictures · `, replay));
}
