// Privacy masks of a camera, drawn on its picture (administrators). A mask hides a home's
// window or entrance, a private garden: the node fills it opaque in every picture it lets out
// and leaves it out of the analysis. The outline is in the camera's own pixels (the picture's
// `width` × `height` the server reports), whatever size the picture is shown at; each outline
// can also be typed, one point per row, so every action works from the keyboard.
import { api } from './api.js';
import { $, enc, h } from './dom.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The set as the server last returned it, the masks as edited, and what the pointer does. */
const st = { camera: null, set: null, masks: [], selected: -1, drawing: false, drag: null };

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

const fmt = (polygon) => polygon.map(([x, y]) => `${x}, ${y}`).join('\n');

/** Rows of `x, y`; throws with the row at fault. */
function parseOutline(text) {
  const rows = text.split('\n').map((r) => r.trim()).filter((r) => r);
  return rows.map((r, i) => {
    const parts = r.split(/[\s,;]+/).filter((p) => p);
    const nums = parts.map(Number);
    if (parts.length !== 2 || nums.some((n) => !Number.isFinite(n))) throw new Error(`row ${i + 1} ("${r}") is not two numbers x, y`);
    return nums;
  });
}

export function initMasks() {
  $('#masks-new').addEventListener('click', newMask);
  $('#masks-finish').addEventListener('click', finishDrawing);
  $('#masks-refresh').addEventListener('click', refreshPicture);
  $('#masks-save').addEventListener('click', save);
  $('#masks-reload').addEventListener('click', () => loadMasks(st.camera, true));
  const area = $('#masks-svg');
  area.addEventListener('pointerdown', onPointerDown);
  area.addEventListener('pointermove', onPointerMove);
  area.addEventListener('pointerup', () => { st.drag = null; });
  area.addEventListener('pointercancel', () => { st.drag = null; });
}

/** Shows the masks of `camera` (the camera chosen in the configuration view). */
export async function loadMasks(camera, force = false) {
  // Edits in progress survive a reload of the zones and rules of the same camera.
  if (!force && camera && camera === st.camera && st.set) return;
  st.camera = camera;
  $('#masks').hidden = !camera;
  if (!camera) return;
  $('#masks-camera').textContent = camera;
  $('#masks-msg').textContent = '';
  try { show(await api('GET', `/api/cameras/${enc(camera)}/privacy_masks`)); } catch (e) { $('#masks-msg').textContent = e.message; }
}

function show(set) {
  st.set = set;
  st.masks = set.masks.map((m) => ({ name: m.name, polygon: m.polygon.map(([x, y]) => [x, y]) }));
  st.selected = -1;
  st.drawing = false;
  st.drag = null;
  $('#masks-version').textContent = set.version
    ? `Version ${set.version}, saved ${new Date(set.changed_at_ms).toLocaleString()} by ${set.changed_by}.`
    : 'No mask yet (version 0).';
  const pic = set.picture;
  $('#masks-size').textContent = pic ? `Picture ${pic.width} × ${pic.height} pixels.` : 'The camera has sent no picture yet: masks can be edited once it shows.';
  if (pic) $('#masks-svg').setAttribute('viewBox', `0 0 ${pic.width} ${pic.height}`);
  $('#masks-save').disabled = !pic;
  $('#masks-new').disabled = !pic;
  refreshPicture();
  renderList();
  renderPicture();
}

function refreshPicture() {
  if (!st.camera) return;
  // Made here, not in the page: roles that never see a picture get no image element at all.
  let img = $('#masks-img');
  if (!img) {
    img = h('img', { id: 'masks-img', alt: 'Live picture of the camera, people blurred and the masks in force filled' });
    $('#masks-stage').prepend(img);
  }
  img.src = `/api/cameras/${enc(st.camera)}/live?at=${Date.now()}`;
}

/** A point of the picture, in camera pixels, from a pointer event. */
function pointOf(ev) {
  const area = $('#masks-svg');
  const p = area.createSVGPoint();
  p.x = ev.clientX;
  p.y = ev.clientY;
  const q = p.matrixTransform(area.getScreenCTM().inverse());
  const { width, height } = st.set.picture;
  return [Math.round(Math.min(Math.max(q.x, 0), width)), Math.round(Math.min(Math.max(q.y, 0), height))];
}

function onPointerDown(ev) {
  if (!st.set || !st.set.picture) return;
  const vertex = ev.target.closest && ev.target.closest('circle[data-point]');
  if (vertex && !st.drawing) {
    st.drag = { mask: Number(vertex.dataset.mask), point: Number(vertex.dataset.point) };
    $('#masks-svg').setPointerCapture(ev.pointerId);
    ev.preventDefault();
    return;
  }
  if (st.drawing) {
    const m = st.masks[st.selected];
    // A click on the first point closes the outline.
    if (vertex && Number(vertex.dataset.point) === 0 && m.polygon.length >= 3) { finishDrawing(); return; }
    m.polygon.push(pointOf(ev));
    outlineChanged(st.selected);
    return;
  }
  const shape = ev.target.closest && ev.target.closest('polygon[data-mask]');
  select(shape ? Number(shape.dataset.mask) : -1);
}

function onPointerMove(ev) {
  if (!st.drag) return;
  st.masks[st.drag.mask].polygon[st.drag.point] = pointOf(ev);
  outlineChanged(st.drag.mask);
}

/** After an outline changed on the picture: its text follows. */
function outlineChanged(i) {
  const ta = document.querySelector(`#masks-list .mask[data-index="${i}"] textarea[name="polygon"]`);
  if (ta) ta.value = fmt(st.masks[i].polygon);
  renderPicture();
}

function select(i) {
  st.selected = i;
  for (const el of document.querySelectorAll('#masks-list .mask')) el.classList.toggle('selected', Number(el.dataset.index) === i);
  renderPicture();
}

function newMask() {
  if (!st.set || !st.set.picture) return;
  st.masks.push({ name: `mask ${st.masks.length + 1}`, polygon: [] });
  renderList();
  select(st.masks.length - 1);
  st.drawing = true;
  drawingChanged();
  $('#masks-msg').textContent = 'Click on the picture to add the outline\'s points; click the first point or "Finish outline" to close it.';
}

function finishDrawing() {
  if (!st.drawing) return;
  const m = st.masks[st.selected];
  if (m && m.polygon.length < 3) { $('#masks-msg').textContent = 'An outline needs at least 3 points.'; return; }
  st.drawing = false;
  drawingChanged();
  $('#masks-msg').textContent = 'Outline closed: name the mask, drag its points if needed, then save.';
  const name = document.querySelector(`#masks-list .mask[data-index="${st.selected}"] input[name="name"]`);
  if (name) { name.focus(); name.select(); }
}

function drawingChanged() {
  $('#masks-finish').disabled = !st.drawing;
  $('#masks-stage').classList.toggle('drawing', st.drawing);
  renderPicture();
}

function renderPicture() {
  const area = $('#masks-svg');
  const pic = st.set && st.set.picture;
  const r = pic ? Math.max(pic.width, pic.height) / 90 : 5;
  const shapes = [];
  st.masks.forEach((m, i) => {
    if (!m.polygon.length) return;
    const points = m.polygon.map(([x, y]) => `${x},${y}`).join(' ');
    const open = st.drawing && i === st.selected;
    const shape = svg(open ? 'polyline' : 'polygon', { points, 'data-mask': i, class: i === st.selected ? 'mask-shape selected' : 'mask-shape' });
    const title = svg('title');
    title.textContent = m.name;
    shape.append(title);
    shapes.push(shape);
    if (i === st.selected) {
      m.polygon.forEach(([x, y], k) => shapes.push(svg('circle', { cx: x, cy: y, r: k === 0 && open ? r * 1.5 : r, 'data-mask': i, 'data-point': k, class: 'mask-point' })));
    }
  });
  area.replaceChildren(...shapes);
}

function renderList() {
  $('#masks-errors').replaceChildren();
  $('#masks-list').replaceChildren(...st.masks.map((m, i) => {
    const name = h('input', { name: 'name', value: m.name, size: 24, maxlength: 100, oninput: (ev) => { m.name = ev.target.value; renderPicture(); } });
    const outline = h('textarea', { name: 'polygon', rows: 4, cols: 14, spellcheck: 'false', placeholder: 'x, y\nx, y\nx, y' }, fmt(m.polygon));
    outline.addEventListener('input', () => {
      const f = outline.closest('.field');
      try {
        m.polygon = parseOutline(outline.value);
        setFieldError(f, '');
        renderPicture();
      } catch (e) { setFieldError(f, e.message); }
    });
    const el = h('fieldset', { class: 'mask', 'data-index': i },
      h('legend', { text: `Mask ${i + 1}` }),
      h('div', { class: 'row' },
        field('name', 'Name', name),
        field('polygon', 'Outline (x, y per row, camera pixels)', outline),
        h('div', { class: 'actions-col' },
          h('button', { type: 'button', class: 'mask-select', onclick: () => select(i) }, 'Show points'),
          h('button', { type: 'button', class: 'mask-delete danger', 'aria-label': `Delete mask ${i + 1}`, onclick: () => removeMask(i) }, 'Delete'))),
      h('span', { class: 'mask-error error small' }));
    return el;
  }));
  if (!st.masks.length) $('#masks-list').append(h('p', { class: 'muted small', text: 'No mask on this camera.' }));
}

function removeMask(i) {
  st.masks.splice(i, 1);
  if (st.selected === i) { st.selected = -1; st.drawing = false; drawingChanged(); } else if (st.selected > i) st.selected -= 1;
  renderList();
  select(st.selected);
}

function field(name, label, control) {
  return h('label', { class: 'field', 'data-field': name }, h('span', { class: 'field-label', text: label }), control,
    h('span', { class: 'field-error error small' }));
}

function setFieldError(f, message) {
  f.classList.toggle('invalid', !!message);
  f.querySelector('.field-error').textContent = message;
}

/** Where the server's key (`privacy_masks[1].polygon[3]`) is shown: the field it names. */
function showErrors(errors) {
  for (const { key, message } of errors) {
    const m = key.match(/^privacy_masks\[(\d+)\]\.?(name|polygon)?/);
    const el = m && document.querySelector(`#masks-list .mask[data-index="${m[1]}"]`);
    if (!el) { $('#masks-errors').append(h('li', { text: `${key}: ${message}` })); continue; }
    const f = m[2] ? el.querySelector(`.field[data-field="${m[2]}"]`) : null;
    const text = key.includes('polygon[') ? `${key.slice(key.indexOf('polygon'))}: ${message}` : message;
    if (f) {
      const prev = f.querySelector('.field-error').textContent;
      setFieldError(f, prev ? `${prev} — ${text}` : text);
    } else el.querySelector('.mask-error').textContent = text;
  }
}

async function save() {
  if (!st.set) return;
  if (st.drawing) finishDrawing();
  if (st.drawing) return;
  for (const f of document.querySelectorAll('#masks-list .field.invalid')) setFieldError(f, '');
  $('#masks-errors').replaceChildren();
  const msg = $('#masks-msg');
  msg.textContent = '';
  try {
    const set = await api('PUT', `/api/cameras/${enc(st.camera)}/privacy_masks`, { masks: st.masks, version: st.set.version });
    show(set);
    msg.textContent = `Saved: version ${set.version}, applied to every picture and the analysis.`;
  } catch (e) {
    msg.textContent = `Not saved: ${e.message}`;
    showErrors(e.errors || []);
  }
}
