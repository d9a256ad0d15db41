// Privacy masks of a camera, drawn on its picture (administrators). A mask hides a home's
// window or entrance, a private garden: the node fills it opaque in every picture it lets out
// and leaves it out of the analysis. The outline is in the camera's own pixels (the picture's
// `width` × `height` the server reports), whatever size the picture is shown at; each outline
// can also be typed, one point per row, so every action works from the keyboard.
import { api } from './api.js';
import { $, enc, h } from './dom.js';
import { PolygonEditor, formatOutline as fmt, parseOutline } from './polygon-editor.js';

/** The set as the server last returned it, the masks as edited, and the outline editor. */
const st = { camera: null, set: null, masks: [], editor: null };

export function initMasks() {
  $('#masks-new').addEventListener('click', newMask);
  $('#masks-finish').addEventListener('click', finishDrawing);
  $('#masks-refresh').addEventListener('click', refreshPicture);
  $('#masks-save').addEventListener('click', save);
  $('#masks-reload').addEventListener('click', () => loadMasks(st.camera, true));
  st.editor = new PolygonEditor($('#masks-svg'), {
    edit: outlineChanged,
    close: outlineClosed,
    select: selected,
  }, { shape: 'mask-shape', point: 'mask-point' });
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
  $('#masks-version').textContent = set.version
    ? `Version ${set.version}, saved ${new Date(set.changed_at_ms).toLocaleString()} by ${set.changed_by}.`
    : 'No mask yet (version 0).';
  const pic = set.picture;
  $('#masks-size').textContent = pic ? `Picture ${pic.width} × ${pic.height} pixels.` : 'The camera has sent no picture yet: masks can be edited once it shows.';
  $('#masks-save').disabled = !pic;
  $('#masks-new').disabled = !pic;
  st.editor.setPicture(pic || null);
  st.editor.setShapes(st.masks);
  drawingChanged();
  refreshPicture();
  renderList();
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

/** After an outline changed on the picture: its text follows. */
function outlineChanged(i) {
  const ta = document.querySelector(`#masks-list .mask[data-index="${i}"] textarea[name="polygon"]`);
  if (ta) ta.value = fmt(st.masks[i].polygon);
}

/** A click on the picture picked outline `i` (-1: none): its row is marked too. */
function selected(i) {
  for (const el of document.querySelectorAll('#masks-list .mask')) el.classList.toggle('selected', Number(el.dataset.index) === i);
}

function select(i) {
  st.editor.select(i);
  selected(i);
}

function newMask() {
  if (!st.set || !st.set.picture) return;
  st.masks.push({ name: `mask ${st.masks.length + 1}`, polygon: [] });
  renderList();
  st.editor.start(st.masks.length - 1);
  selected(st.masks.length - 1);
  drawingChanged();
  $('#masks-msg').textContent = 'Click on the picture to add the outline\'s points; click the first point or "Finish outline" to close it.';
}

function finishDrawing() {
  if (!st.editor.finish()) $('#masks-msg').textContent = 'An outline needs at least 3 points.';
}

function outlineClosed(i) {
  drawingChanged();
  $('#masks-msg').textContent = 'Outline closed: name the mask, drag its points if needed, then save.';
  const name = document.querySelector(`#masks-list .mask[data-index="${i}"] input[name="name"]`);
  if (name) { name.focus(); name.select(); }
}

function drawingChanged() {
  $('#masks-finish').disabled = !st.editor.drawing;
  $('#masks-stage').classList.toggle('drawing', st.editor.drawing);
}

const renderPicture = () => st.editor.render();

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
  const ed = st.editor;
  let sel = ed.selected;
  if (sel === i) { sel = -1; ed.cancel(); drawingChanged(); } else if (sel > i) sel -= 1;
  renderList();
  select(sel);
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
  if (st.editor.drawing) finishDrawing();
  if (st.editor.drawing) return;
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
