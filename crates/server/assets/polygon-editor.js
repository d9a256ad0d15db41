// Outlines drawn on a camera's picture, shared by the privacy masks and the zones editors. The
// picture is shown at any size; the SVG over it has the camera's own `width` × `height` as its
// viewBox, so every point is in camera pixels (what the server checks). Click to add points,
// click the first point (or call `finish`) to close an outline, drag a selected outline's
// points to move them. Callers keep the outlines (`{ name, polygon }`, edited in place) and
// offer the same edits as text, so every action also works from the keyboard.

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** Points as rows of `x, y`, and back; `parseOutline` throws naming the row at fault. */
export const formatOutline = (polygon) => polygon.map(([x, y]) => `${x}, ${y}`).join('\n');

export function parseOutline(text) {
  const rows = text.split('\n').map((r) => r.trim()).filter((r) => r);
  return rows.map((r, i) => {
    const parts = r.split(/[\s,;]+/).filter((p) => p);
    const nums = parts.map(Number);
    if (parts.length !== 2 || nums.some((n) => !Number.isFinite(n))) throw new Error(`row ${i + 1} ("${r}") is not two numbers x, y`);
    return nums;
  });
}

export class PolygonEditor {
  /**
   * `area`: the SVG laid over the picture. `on.edit(i)` after outline `i` changed on the
   * picture, `on.close(i)` once it is closed, `on.select(i)` when a click picks one (-1: none).
   * `cls`: CSS classes of the outlines and of their points.
   */
  constructor(area, on = {}, cls = { shape: 'poly-shape', point: 'poly-point' }) {
    this.area = area;
    this.on = on;
    this.cls = cls;
    this.picture = null;
    this.shapes = [];
    this.selected = -1;
    this.drawing = false;
    this.drag = null;
    area.addEventListener('pointerdown', (ev) => this.pointerDown(ev));
    area.addEventListener('pointermove', (ev) => this.pointerMove(ev));
    area.addEventListener('pointerup', () => { this.drag = null; });
    area.addEventListener('pointercancel', () => { this.drag = null; });
  }

  /** The camera's picture size (`{ width, height }`), or null while it has sent none. */
  setPicture(pic) {
    this.picture = pic;
    if (pic) this.area.setAttribute('viewBox', `0 0 ${pic.width} ${pic.height}`);
    this.render();
  }

  /** The outlines to show and edit (kept by reference: the caller's edits show at `render`). */
  setShapes(shapes) {
    this.shapes = shapes;
    this.selected = -1;
    this.drawing = false;
    this.drag = null;
    this.render();
  }

  select(i) {
    this.selected = i;
    this.render();
  }

  /** Starts outline `i` afresh: the next clicks on the picture are its points. */
  start(i) {
    if (!this.picture) return false;
    this.shapes[i].polygon = [];
    this.selected = i;
    this.drawing = true;
    this.render();
    return true;
  }

  /** Closes the outline being drawn; false (and still drawing) below 3 points. */
  finish() {
    if (!this.drawing) return true;
    const s = this.shapes[this.selected];
    if (s && s.polygon.length < 3) return false;
    this.drawing = false;
    this.render();
    if (this.on.close) this.on.close(this.selected);
    return true;
  }

  /** Stops drawing without closing (the outline is dropped by the caller). */
  cancel() {
    this.drawing = false;
    this.drag = null;
    this.render();
  }

  /** A point of the picture, in camera pixels, from a pointer event. */
  pointOf(ev) {
    const p = this.area.createSVGPoint();
    p.x = ev.clientX;
    p.y = ev.clientY;
    const q = p.matrixTransform(this.area.getScreenCTM().inverse());
    const { width, height } = this.picture;
    return [Math.round(Math.min(Math.max(q.x, 0), width)), Math.round(Math.min(Math.max(q.y, 0), height))];
  }

  pointerDown(ev) {
    if (!this.picture) return;
    const vertex = ev.target.closest && ev.target.closest('circle[data-point]');
    if (vertex && !this.drawing) {
      this.drag = { shape: Number(vertex.dataset.shape), point: Number(vertex.dataset.point) };
      this.area.setPointerCapture(ev.pointerId);
      ev.preventDefault();
      return;
    }
    if (this.drawing) {
      const s = this.shapes[this.selected];
      // A click on the first point closes the outline.
      if (vertex && Number(vertex.dataset.point) === 0 && s.polygon.length >= 3) { this.finish(); return; }
      s.polygon.push(this.pointOf(ev));
      this.edited(this.selected);
      return;
    }
    const shape = ev.target.closest && ev.target.closest('[data-shape]');
    this.select(shape ? Number(shape.dataset.shape) : -1);
    if (this.on.select) this.on.select(this.selected);
  }

  pointerMove(ev) {
    if (!this.drag) return;
    this.shapes[this.drag.shape].polygon[this.drag.point] = this.pointOf(ev);
    this.edited(this.drag.shape);
  }

  edited(i) {
    this.render();
    if (this.on.edit) this.on.edit(i);
  }

  render() {
    const pic = this.picture;
    const r = pic ? Math.max(pic.width, pic.height) / 90 : 5;
    const out = [];
    this.shapes.forEach((s, i) => {
      if (!s.polygon || !s.polygon.length) return;
      const points = s.polygon.map(([x, y]) => `${x},${y}`).join(' ');
      const open = this.drawing && i === this.selected;
      const shape = svg(open ? 'polyline' : 'polygon', { points, 'data-shape': i, class: i === this.selected ? `${this.cls.shape} selected` : this.cls.shape });
      const title = svg('title');
      title.textContent = s.name;
      shape.append(title);
      out.push(shape);
      if (i === this.selected) {
        s.polygon.forEach(([x, y], k) => out.push(svg('circle', { cx: x, cy: y, r: k === 0 && open ? r * 1.5 : r, 'data-shape': i, 'data-point': k, class: this.cls.point })));
      }
    });
    this.area.replaceChildren(...out);
  }
}
