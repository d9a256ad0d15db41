// What the statistics page computes without the DOM: wall-clock times in the city's time zone,
// step grids, the hour-of-day profile and the day comparison, and charts as plain trees of SVG
// elements (`{ tag, attrs, kids, text }`) that the page turns into nodes. Unit-tested in Node
// (tests/browser/chart.test.mjs); no library, no build step.

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const partsFormat = new Map();
/** Year, month (1–12), day, hour (0–23), minute and weekday (0 = Sunday) of `ms` in `tz`. */
export function zonedParts(ms, tz) {
  let f = partsFormat.get(tz);
  if (!f) {
    // Throws a RangeError naming the zone when the browser does not know it.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short',
    });
    partsFormat.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return {
    year: Number(p.year), month: Number(p.month), day: Number(p.day), hour: Number(p.hour) % 24,
    minute: Number(p.minute), second: Number(p.second),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday),
  };
}

/** How far the wall clock of `tz` is ahead of UTC at `ms`. */
export function tzOffsetMs(ms, tz) {
  const p = zonedParts(ms, tz);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The instant at which the wall clock of `tz` shows this date and time. In the hour skipped when
 * clocks go forward, the instant one hour later; in the hour shown twice, the first one.
 */
export function zonedToUtc({ year, month, day, hour = 0, minute = 0 }, tz) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - tzOffsetMs(wall, tz);
  const before = wall - tzOffsetMs(first - HOUR_MS, tz);
  const after = wall - tzOffsetMs(first, tz);
  // Both readings of an ambiguous wall time: keep the earlier that really shows it.
  for (const t of [Math.min(before, after), Math.max(before, after)]) {
    if (t + tzOffsetMs(t, tz) === wall) return t;
  }
  // Skipped by the clocks: the reading the new offset gives, an hour later.
  return Math.max(before, after);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD` of `ms` in `tz` (the value of a date input). */
export const isoDate = (ms, tz) => { const p = zonedParts(ms, tz); return `${p.year}-${pad(p.month)}-${pad(p.day)}`; };
/** `YYYY-MM-DDTHH:MM` of `ms` in `tz` (the value of a datetime-local input). */
export const isoMinute = (ms, tz) => { const p = zonedParts(ms, tz); return `${isoDate(ms, tz)}T${pad(p.hour)}:${pad(p.minute)}`; };

/** A date (`YYYY-MM-DD`) or date and time (`YYYY-MM-DDTHH:MM`) typed in `tz`, as Unix ms; null if unreadable. */
export function parseLocal(text, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/.exec(String(text).trim());
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v)));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  return zonedToUtc({ year, month, day, hour, minute }, tz);
}

/** Start (local midnight) and end (next local midnight) of the day `YYYY-MM-DD` in `tz`: 23, 24 or 25 hours. */
export function dayBounds(date, tz) {
  const from = parseLocal(date, tz);
  if (from === null) return null;
  const p = zonedParts(from + DAY_MS + 2 * HOUR_MS, tz);
  return { from, to: zonedToUtc({ year: p.year, month: p.month, day: p.day }, tz) };
}

/**
 * The start of every step that overlaps [from, to), on the grid of the points the server
 * returned (or of `from` when there is none), so that steps without counts show as zero rather
 * than as a gap. A server whose steps are on whole minutes or hours may start the first one
 * before `from`.
 */
export function stepGrid(points, from, to, stepMs) {
  if (!(stepMs > 0) || to <= from) return [];
  const anchor = points.length ? points[0].t : from;
  let t = anchor - Math.ceil((anchor - from) / stepMs) * stepMs;
  const out = [];
  for (; t < to; t += stepMs) out.push(t);
  return out;
}

/** The values of `keys` at every step of the grid; a step the server did not return is zero. */
export function fillSteps(points, from, to, stepMs, keys) {
  const byT = new Map(points.map((p) => [p.t, p]));
  return stepGrid(points, from, to, stepMs).map((t) => {
    const p = byT.get(t);
    return Object.fromEntries([['t', t], ...keys.map((k) => [k, p ? Number(p[k]) || 0 : 0])]);
  });
}

/** What each kind of counting zone measures per step. */
export const METRICS = {
  line: [{ key: 'in', label: 'in' }, { key: 'out', label: 'out' }],
  area: [{ key: 'entries', label: 'entries' }, { key: 'occupancy', label: 'mean occupancy' }],
};

/**
 * Mean per hour of the day in `tz`, from hourly points over [from, to): each hour of the day is
 * divided by how many times it occurs in the range (a day that changes clocks has one hour less
 * or more), and an hour that never occurs is null.
 */
export function hourProfile(points, from, to, tz, keys) {
  const sums = Array.from({ length: 24 }, () => Object.fromEntries(keys.map((k) => [k, 0])));
  const counts = new Array(24).fill(0);
  for (const row of fillSteps(points, from, to, HOUR_MS, keys)) {
    const h = zonedParts(row.t, tz).hour;
    counts[h] += 1;
    for (const k of keys) sums[h][k] += row[k];
  }
  return sums.map((s, hour) => Object.fromEntries([['hour', hour], ['n', counts[hour]],
    ...keys.map((k) => [k, counts[hour] ? s[k] / counts[hour] : null])]));
}

/** Sum of each key over rows (nulls skipped). */
export const totals = (rows, keys) => Object.fromEntries(keys.map((k) => [k, rows.reduce((a, r) => a + (r[k] ?? 0), 0)]));

/** A round upper bound for an axis whose largest value is `max`, and its ticks (about `n`). */
export function niceScale(max, n = 4) {
  if (!(max > 0)) return { max: 1, ticks: [0, 1] };
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  for (let i = 0; i * step <= top + step / 1e6; i += 1) ticks.push(Number((i * step).toPrecision(12)));
  return { max: top, ticks };
}

/** Colours of the series (distinguishable with the common colour-vision deficiencies). */
export const PALETTE = ['#3d8bfd', '#f0883e', '#3fb950', '#d2a8ff', '#e5534b', '#d29922'];

const el = (tag, attrs = {}, kids = [], text) => ({ tag, attrs, kids, text });
const fmtNum = (v) => (Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2))));

/**
 * A chart as a tree of SVG elements.
 * - `labels`: the x positions' labels (one per value), `ticks`: how many of them to print;
 * - `series`: `[{ name, values, dashed, color }]`, values aligned with `labels` (null = no value);
 * - `type`: 'line' (polylines, a dot for a lone point) or 'bar' (grouped bars).
 * The chart names itself (`title`, `desc`) for screen readers; the page adds the data table.
 */
export function chartTree({ id, title, desc, labels, series, type = 'line', ticks = 8, width = 960, height = 260 }) {
  const m = { left: 44, right: 12, top: 12, bottom: 40 };
  const w = width - m.left - m.right;
  const hgt = height - m.top - m.bottom;
  const n = labels.length;
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  const scale = niceScale(all.length ? Math.max(...all) : 0);
  const y = (v) => m.top + hgt - (v / scale.max) * hgt;
  const band = n ? w / n : w;
  const x = (i) => m.left + band * (i + 0.5);
  const grid = scale.ticks.map((t) => el('g', { class: 'tick' }, [
    el('line', { x1: m.left, x2: m.left + w, y1: y(t), y2: y(t), stroke: '#2a3542' }),
    el('text', { x: m.left - 6, y: y(t) + 4, 'text-anchor': 'end', fill: '#8b98a5', 'font-size': 11 }, [], fmtNum(t)),
  ]));
  const every = Math.max(1, Math.ceil(n / ticks));
  const xlabels = labels.map((l, i) => (i % every === 0
    ? el('text', { x: x(i), y: m.top + hgt + 16, 'text-anchor': 'middle', fill: '#8b98a5', 'font-size': 11 }, [], l) : null))
    .filter(Boolean);
  const marks = series.map((s, si) => {
    const color = s.color || PALETTE[si % PALETTE.length];
    const dash = s.dashed ? '5 3' : null;
    if (type === 'bar') {
      const bw = (band * 0.8) / series.length;
      return el('g', { class: 'series', 'data-series': s.name, fill: color }, s.values.map((v, i) => (v === null || v === undefined ? null
        : el('rect', { x: x(i) - band * 0.4 + si * bw, y: y(v), width: Math.max(bw - 1, 1), height: m.top + hgt - y(v), 'data-value': v },
          [el('title', {}, [], `${labels[i]}: ${s.name} ${fmtNum(v)}`)]))).filter(Boolean));
    }
    const pts = s.values.map((v, i) => (v === null || v === undefined ? null : [x(i), y(v)])).filter(Boolean);
    const path = pts.length > 1
      ? el('polyline', { points: pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash })
      : null;
    const dots = pts.length === 1 ? [el('circle', { cx: pts[0][0], cy: pts[0][1], r: 3, fill: color })] : [];
    return el('g', { class: 'series', 'data-series': s.name }, [path, ...dots].filter(Boolean));
  });
  // Legend entries side by side, each as wide as its name (about 6.5 px a character at 11 px).
  let lx = m.left;
  const legend = series.map((s, si) => {
    const at = lx;
    lx += 24 + Math.ceil(String(s.name).length * 6.5) + 18;
    return el('g', { class: 'legend' }, [
      el('line', { x1: at, x2: at + 18, y1: height - 8, y2: height - 8, stroke: s.color || PALETTE[si % PALETTE.length], 'stroke-width': 3, 'stroke-dasharray': s.dashed ? '5 3' : null }),
      el('text', { x: at + 24, y: height - 4, fill: '#e6edf3', 'font-size': 11 }, [], s.name),
    ]);
  });
  return el('svg', {
    id, role: 'img', viewBox: `0 0 ${width} ${height}`, width: '100%', 'aria-labelledby': `${id}-title ${id}-desc`,
    preserveAspectRatio: 'xMidYMid meet', class: 'chart',
  }, [
    el('title', { id: `${id}-title` }, [], title),
    el('desc', { id: `${id}-desc` }, [], desc),
    el('line', { x1: m.left, x2: m.left, y1: m.top, y2: m.top + hgt, stroke: '#8b98a5' }),
    ...grid, ...xlabels, ...marks, ...legend,
  ]);
}
