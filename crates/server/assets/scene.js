// What the zone and rule forms know about the configuration, without the DOM: kinds, event
// types and which parameters each type takes (mirrors crates/rules/src/config.rs, whose
// validation stays the judge), text <-> point lists, and where a server error belongs.

export const ZONE_KINDS = ['pedestrian_street', 'square', 'wall', 'lane', 'forbidden', 'line'];

export const EVENT_TYPES = ['vehicle_in_pedestrian_zone', 'crowd', 'abandoned_object', 'graffiti', 'wrong_way', 'intrusion', 'person_down'];

const ALL = EVENT_TYPES;
const byType = (m) => (t) => m[t] ?? m._;

/**
 * The optional parameters of a rule: which types take each, its unit and its default (shown as
 * the placeholder; an empty field leaves the key out, and the type's default applies).
 * `kind`: number, integer, bool (default / yes / no), list (comma-separated).
 */
export const PARAMS = [
  { key: 'classes', label: 'Classes', kind: 'list', unit: 'detector classes, comma-separated',
    types: ALL.filter((t) => t !== 'abandoned_object' && t !== 'graffiti'),
    fallback: byType({ vehicle_in_pedestrian_zone: 'car, truck, bus, motorcycle', wrong_way: 'person, bicycle, car, motorcycle, bus, truck', _: 'person' }) },
  { key: 'min_duration_s', label: 'Minimum duration', kind: 'number', unit: 's', types: ALL,
    fallback: byType({ vehicle_in_pedestrian_zone: 5, crowd: 10, abandoned_object: 30, graffiti: 8, wrong_way: 'distance only', intrusion: 1, person_down: 10 }) },
  { key: 'min_count', label: 'Minimum count', kind: 'integer', unit: 'people', types: ['crowd'], fallback: () => 'none' },
  { key: 'max_density_per_m2', label: 'Maximum density', kind: 'number', unit: 'people/m² (needs calibration)', types: ['crowd'], fallback: () => 'none' },
  { key: 'include_bicycles', label: 'Count bicycles as vehicles', kind: 'bool', types: ['vehicle_in_pedestrian_zone'], fallback: () => 'no' },
  { key: 'min_distance_m', label: 'Distance against the lane', kind: 'number', unit: 'm (needs calibration)', types: ['wrong_way'], fallback: () => 'none' },
  { key: 'min_distance_px', label: 'Distance against the lane', kind: 'number', unit: 'px', types: ['wrong_way'], fallback: () => '80 when no other threshold is set' },
  { key: 'min_area_px', label: 'Smallest area', kind: 'number', unit: 'px²', types: ['abandoned_object', 'graffiti'],
    fallback: byType({ graffiti: 150, _: 300 }) },
  { key: 'require_owner', label: 'Only objects someone was seen bringing', kind: 'bool', types: ['abandoned_object'], fallback: () => 'yes' },
  { key: 'lying_aspect', label: 'Lying when width/height ≥', kind: 'number', unit: 'ratio', types: ['person_down'], fallback: () => 1.2 },
  { key: 'max_lying_height_m', label: 'Lying when box height <', kind: 'number', unit: 'm (needs calibration)', types: ['person_down'], fallback: () => 1.0 },
  { key: 'cooldown_s', label: 'Cooldown after an event', kind: 'number', unit: 's', types: ALL,
    fallback: byType({ graffiti: 60, abandoned_object: 60, _: 30 }) },
  { key: 'hysteresis_s', label: 'Close after the condition is false for', kind: 'number', unit: 's', types: ALL,
    fallback: byType({ crowd: 5, _: 3 }) },
];

/** Keys the rule form owns; anything else in a rule is kept as it came. */
export const RULE_KEYS = ['id', 'type', 'zone', 'enabled', 'legal_basis', 'version', 'schedule', ...PARAMS.map((p) => p.key)];
export const ZONE_KEYS = ['name', 'kind', 'polygon', 'direction', 'points', 'count'];

export const paramsFor = (type) => PARAMS.filter((p) => p.types.includes(type));

/** Thrown by the parsers below; `key` is the form field at fault. */
export class FieldError extends Error {
  constructor(key, message) { super(message); this.key = key; }
}

/** `[[x, y], …]` as one `x, y` row per point. */
export const formatPoints = (pts) => (pts || []).map((p) => `${p[0]}, ${p[1]}`).join('\n');

/** One `x, y` (or `x y`) row per point; blank rows are ignored. */
export function parsePoints(text, key) {
  const rows = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return rows.map((row, i) => parsePair(row, key, `row ${i + 1}`));
}

export function parsePair(text, key, where = 'value') {
  const parts = text.split(/[\s,;]+/).filter((s) => s.length > 0);
  const nums = parts.map(Number);
  if (parts.length !== 2 || nums.some((n) => !Number.isFinite(n))) {
    throw new FieldError(key, `${where}: "${text}" is not two numbers like "120, 340"`);
  }
  return nums;
}

/** A number field: empty leaves the key out. */
export function parseNumber(text, key, integer = false) {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new FieldError(key, `"${t}" is not ${integer ? 'a whole number' : 'a number'}`);
  }
  return n;
}

export const parseList = (text) => {
  const items = text.split(/[,\n]/).map((s) => s.trim()).filter((s) => s.length > 0);
  return items.length ? items : undefined;
};

/** Whether two JSON values are equal (configuration objects: no cycles, key order ignored). */
export function sameJson(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => a[k] !== undefined), kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson(a[k], b[k]));
}

/**
 * The names under which the server may report a field: its validation names cameras, zones and
 * rules by id (`cameras.plaza.rules.group.min_count`), the JSON decoder by position
 * (`cameras[0].rules[0].min_count`).
 */
export function errorKeys(camIndex, camId, section, index, name, field) {
  const keys = [`cameras[${camIndex}].${section}[${index}].${field}`, `cameras.${camId}.${section}[${index}].${field}`];
  if (name) keys.push(`cameras.${camId}.${section}.${name}.${field}`);
  return keys;
}
