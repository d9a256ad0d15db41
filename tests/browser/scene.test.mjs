// Unit tests of what the zone and rule forms know without a browser (crates/server/assets/scene.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVENT_TYPES, FieldError, errorKeys, formatPoints, paramsFor, parseList, parseNumber, parsePoints, sameJson,
} from '../../crates/server/assets/scene.js';

test('points round-trip through the text rows, with commas or spaces', () => {
  const pts = [[330, 170], [560.5, 170], [0.25, 0.75]];
  assert.equal(formatPoints(pts), '330, 170\n560.5, 170\n0.25, 0.75');
  assert.deepEqual(parsePoints(formatPoints(pts), 'polygon'), pts);
  assert.deepEqual(parsePoints(' 1 2\n\n3,4 \n5;6\n', 'polygon'), [[1, 2], [3, 4], [5, 6]]);
});

test('a row that is not two numbers names its row and the field', () => {
  for (const [text, row] of [['1, 2\n3', 2], ['x, 1', 1], ['1, 2\n3, 4\n5, 6, 7', 3], ['1, 2\n, 5', 2]]) {
    assert.throws(() => parsePoints(text, 'polygon'), (e) => e instanceof FieldError && e.key === 'polygon' && e.message.startsWith(`row ${row}:`), text);
  }
});

test('number fields: empty leaves the key out, integers are whole', () => {
  assert.equal(parseNumber('  ', 'cooldown_s'), undefined);
  assert.equal(parseNumber(' 2.5 ', 'cooldown_s'), 2.5);
  assert.equal(parseNumber('6', 'min_count', true), 6);
  assert.throws(() => parseNumber('6.5', 'min_count', true), /whole number/);
  assert.throws(() => parseNumber('ten', 'cooldown_s'), (e) => e.key === 'cooldown_s');
  assert.throws(() => parseNumber('Infinity', 'cooldown_s'), FieldError);
  assert.deepEqual(parseList(' person, bicycle,, car '), ['person', 'bicycle', 'car']);
  assert.equal(parseList(' , '), undefined);
});

test('each type offers its own parameters only', () => {
  const keys = (t) => paramsFor(t).map((p) => p.key);
  assert.deepEqual(keys('crowd'), ['classes', 'min_duration_s', 'min_count', 'max_density_per_m2', 'cooldown_s', 'hysteresis_s']);
  assert.deepEqual(keys('graffiti'), ['min_duration_s', 'min_area_px', 'cooldown_s', 'hysteresis_s']);
  assert.ok(keys('abandoned_object').includes('require_owner') && !keys('abandoned_object').includes('classes'));
  assert.ok(keys('wrong_way').includes('min_distance_px') && keys('person_down').includes('lying_aspect'));
  for (const t of EVENT_TYPES) {
    for (const p of paramsFor(t)) assert.notEqual(String(p.fallback(t)), 'undefined', `${t}.${p.key} has no default shown`);
  }
});

test('server error keys by name and by position both lead to the field', () => {
  assert.deepEqual(errorKeys(0, 'plaza', 'rules', 1, 'group', 'min_count'),
    ['cameras[0].rules[1].min_count', 'cameras.plaza.rules[1].min_count', 'cameras.plaza.rules.group.min_count']);
  assert.deepEqual(errorKeys(2, 'hall', 'zones', 0, '', 'name'), ['cameras[2].zones[0].name', 'cameras.hall.zones[0].name']);
});

test('JSON equality ignores key order and absent keys', () => {
  assert.ok(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }));
  assert.ok(sameJson({ a: 1, b: undefined }, { a: 1 }));
  assert.ok(!sameJson({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!sameJson({ a: 1 }, { a: '1' }));
  assert.ok(!sameJson({ a: [] }, { a: {} }));
});
