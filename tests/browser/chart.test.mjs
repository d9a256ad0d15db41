// Unit tests of what the statistics page computes without a browser
// (crates/server/assets/chart.js): city time, step grids, hour-of-day profile, chart trees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chartTree, dayBounds, fillSteps, hourProfile, isoDate, isoMinute, niceScale, parseLocal, stepGrid, totals, zonedParts,
  zonedToUtc,
} from '../../crates/server/assets/chart.js';

const PARIS = 'Europe/Paris';
const H = 3_600_000;
const iso = (ms) => new Date(ms).toISOString();

test('wall-clock times in the city zone, whatever the zone this process runs in', () => {
  assert.equal(iso(zonedToUtc({ year: 2026, month: 7, day: 1 }, PARIS)), '2026-06-30T22:00:00.000Z');
  assert.equal(iso(zonedToUtc({ year: 2026, month: 1, day: 15, hour: 8, minute: 30 }, PARIS)), '2026-01-15T07:30:00.000Z');
  assert.equal(iso(zonedToUtc({ year: 2026, month: 1, day: 15, hour: 8 }, 'America/Montreal')), '2026-01-15T13:00:00.000Z');
  assert.equal(isoMinute(Date.UTC(2026, 0, 1, 23, 5), PARIS), '2026-01-02T00:05');
  assert.equal(isoDate(Date.UTC(2026, 0, 1, 23, 5), 'UTC'), '2026-01-01');
  const p = zonedParts(Date.UTC(2026, 5, 30, 22, 0), PARIS);
  assert.deepEqual([p.year, p.month, p.day, p.hour, p.minute, p.weekday], [2026, 7, 1, 0, 0, 3]);
});

test('clock changes: the skipped hour reads an hour later, the repeated one its first time; days of 23 and 25 hours', () => {
  // 29 March 2026: 02:00 → 03:00 in Paris; 25 October 2026: 03:00 → 02:00.
  assert.equal(iso(zonedToUtc({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, PARIS)), '2026-03-29T01:30:00.000Z');
  assert.equal(isoMinute(zonedToUtc({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, PARIS), PARIS), '2026-03-29T03:30');
  assert.equal(iso(zonedToUtc({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, PARIS)), '2026-10-25T00:30:00.000Z');
  const spring = dayBounds('2026-03-29', PARIS);
  const autumn = dayBounds('2026-10-25', PARIS);
  assert.equal((spring.to - spring.from) / H, 23);
  assert.equal((autumn.to - autumn.from) / H, 25);
  assert.equal(iso(autumn.from), '2026-10-24T22:00:00.000Z');
  assert.equal(dayBounds('2026-12-31', PARIS).to, zonedToUtc({ year: 2027, month: 1, day: 1 }, PARIS));
});

test('typed dates and times: readable ones in the city zone, anything else null', () => {
  assert.equal(parseLocal('2026-01-15T08:30', PARIS), Date.UTC(2026, 0, 15, 7, 30));
  assert.equal(parseLocal('2026-01-15', PARIS), Date.UTC(2026, 0, 14, 23, 0));
  for (const bad of ['', 'yesterday', '2026-13-01', '2026-01-15T25:00', '15/01/2026']) assert.equal(parseLocal(bad, PARIS), null, bad);
  assert.throws(() => zonedParts(0, 'Mars/Olympus_Mons'), RangeError);
});

test('steps the server did not return count as zero, on the grid of those it did', () => {
  const from = Date.UTC(2026, 0, 1, 10, 0, 30);
  const to = from + 5 * 60_000;
  // Points on whole minutes (the server's grid), none on from's half minute.
  const pts = [{ t: Date.UTC(2026, 0, 1, 10, 2), in: 3, out: 1 }, { t: Date.UTC(2026, 0, 1, 10, 4), in: 1, out: 0 }];
  const grid = stepGrid(pts, from, to, 60_000);
  assert.deepEqual(grid.map((t) => new Date(t).toISOString().slice(11, 16)), ['10:00', '10:01', '10:02', '10:03', '10:04', '10:05']);
  const rows = fillSteps(pts, from, to, 60_000, ['in', 'out']);
  assert.deepEqual(rows.map((r) => [r.in, r.out]), [[0, 0], [0, 0], [3, 1], [0, 0], [1, 0], [0, 0]]);
  // The server's first step may start before `from` (the minute `from` falls in): it is kept.
  const early = [{ t: Date.UTC(2026, 0, 1, 10, 0), in: 2, out: 0 }];
  assert.deepEqual(fillSteps(early, from, from + 90_000, 60_000, ['in']).map((r) => r.in), [2, 0]);
  // On a grid aligned with `from`, the grid starts at `from`.
  assert.equal(stepGrid([{ t: from + 120_000 }], from, to, 60_000)[0], from);
  assert.deepEqual(totals(rows, ['in', 'out']), { in: 4, out: 1 });
  // Without points the grid starts at `from`; an empty or reversed range has no step.
  assert.equal(stepGrid([], from, to, 60_000)[0], from);
  assert.deepEqual(stepGrid([], to, from, 60_000), []);
  assert.deepEqual(stepGrid([], from, to, 0), []);
});

test('hour-of-day profile: the mean over the days of the range, in the city zone', () => {
  // Two whole days in Paris (winter, UTC+1): 08:00 has 4 then 2 crossings in, 17:00 has 6 then none.
  const day1 = zonedToUtc({ year: 2026, month: 1, day: 12 }, PARIS);
  const to = day1 + 48 * H;
  const at = (d, hour) => day1 + d * 24 * H + hour * H;
  const pts = [{ t: at(0, 8), in: 4, out: 1 }, { t: at(1, 8), in: 2, out: 0 }, { t: at(0, 17), in: 6, out: 3 }];
  const prof = hourProfile(pts, day1, to, PARIS, ['in', 'out']);
  assert.equal(prof.length, 24);
  assert.deepEqual([prof[8].in, prof[8].out, prof[8].n], [3, 0.5, 2]);
  assert.deepEqual([prof[17].in, prof[17].out], [3, 1.5]);
  assert.equal(prof[3].in, 0);
  // Hour 8 UTC is 9 in Paris: a profile grouped by the browser's zone would put it elsewhere.
  assert.equal(hourProfile([{ t: Date.UTC(2026, 0, 12, 8), in: 5, out: 0 }], day1, to, PARIS, ['in']).findIndex((p) => p.in > 0), 9);
  // A range shorter than a day: hours that never occur in it are null, not zero.
  const short = hourProfile([], day1 + 8 * H, day1 + 11 * H, PARIS, ['entries']);
  assert.deepEqual(short.filter((p) => p.entries !== null).map((p) => p.hour), [8, 9, 10]);
  // The autumn day has two 02:00 hours: each is one occurrence of hour 2.
  const autumn = dayBounds('2026-10-25', PARIS);
  assert.equal(hourProfile([], autumn.from, autumn.to, PARIS, ['in'])[2].n, 2);
});

test('axes end on a round value above the largest one', () => {
  assert.deepEqual(niceScale(7), { max: 8, ticks: [0, 2, 4, 6, 8] });
  assert.deepEqual(niceScale(100), { max: 100, ticks: [0, 25, 50, 75, 100] });
  assert.deepEqual(niceScale(0.8).ticks, [0, 0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceScale(0), { max: 1, ticks: [0, 1] });
  for (const v of [1, 3, 9.5, 11, 999, 1234.5]) assert.ok(niceScale(v).max >= v && niceScale(v).max < v * 2.6, String(v));
});

const find = (node, pred, out = []) => { if (pred(node)) out.push(node); for (const k of node.kids) find(k, pred, out); return out; };

test('a line chart: one polyline per series, scaled to the axis, named for screen readers', () => {
  const tree = chartTree({
    id: 'c', title: 'in and out per minute', desc: 'plaza · north', labels: ['10:00', '10:01', '10:02'],
    series: [{ name: 'in', values: [0, 4, 8] }, { name: 'out', values: [2, 2, 2] }],
    width: 400, height: 200,
  });
  assert.equal(tree.tag, 'svg');
  assert.equal(tree.attrs.role, 'img');
  assert.equal(tree.attrs['aria-labelledby'], 'c-title c-desc');
  assert.equal(find(tree, (n) => n.tag === 'title')[0].text, 'in and out per minute');
  const lines = find(tree, (n) => n.tag === 'polyline');
  assert.equal(lines.length, 2);
  const ys = (l) => l.attrs.points.split(' ').map((p) => Number(p.split(',')[1]));
  // Plot area: top 12, height 200 - 12 - 40 = 148; the axis tops at 8.
  assert.deepEqual(ys(lines[0]), [160, 86, 12]);
  assert.deepEqual(ys(lines[1]), [123, 123, 123]);
  assert.deepEqual(find(tree, (n) => n.attrs.class === 'legend').map((g) => g.kids[1].text), ['in', 'out']);
});

test('a bar chart skips missing values and gives each bar its value; a lone point is a dot', () => {
  const tree = chartTree({ id: 'p', title: 't', desc: 'd', type: 'bar', labels: ['00h', '01h', '02h'], series: [{ name: 'in', values: [1, null, 3] }] });
  const bars = find(tree, (n) => n.tag === 'rect');
  assert.deepEqual(bars.map((b) => b.attrs['data-value']), [1, 3]);
  assert.equal(bars[0].kids[0].text, '00h: in 1');
  const dot = chartTree({ id: 'q', title: 't', desc: 'd', labels: ['a', 'b'], series: [{ name: 'x', values: [null, 2] }] });
  assert.equal(find(dot, (n) => n.tag === 'polyline').length, 0);
  assert.equal(find(dot, (n) => n.tag === 'circle').length, 1);
  // Labels from the server are text nodes of the tree, never markup.
  const odd = chartTree({ id: 'r', title: '<b>', desc: 'd', labels: ['<img src=x>'], series: [{ name: '<i>', values: [1] }] });
  assert.ok(find(odd, (n) => n.text === '<img src=x>').length === 1);
});
