// Issue 14, points 9 and 10, in Debian's Chromium against the real node (config/demo.toml):
// an administrator draws a zone on the camera picture and applies it (the running rules take it,
// the rule on it gets a new version), a point outside the picture is refused with its key and
// nothing changes, a parameter change raises the rule's version; the auditor pages through the
// trail, filters it by user and action and downloads it as CSV (itself audited); an operator's
// search understands the console's own example, a one-day range, a camera by its name, and a
// hit's clip plays right under it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Node, shoot, sleep } from './harness.mjs';

const node = new Node({ name: 'admin', port: 18151, users: { adm: 'admin', aud: 'auditor', op: 'operator' } });
const CAMERA = 'plaza';
const T0 = Date.now();

before(async () => { await node.start(); console.log(`node started in ${Date.now() - T0} ms`); });
after(async () => { await node.stop(); console.log(`admin.test.mjs total ${Date.now() - T0} ms`); });

/** Waits until `check()` returns something truthy (polled), or fails naming `what`. */
async function until(what, check, timeoutMs = 30_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const near = (a, b) => Math.abs(a[0] - b[0]) <= 4 && Math.abs(a[1] - b[1]) <= 4;

test('a zone drawn on the picture is applied and rebuilt; a point off the picture is refused; every rule change is a new version', async () => {
  const t0 = Date.now();
  const adm = await node.apiAs('adm');
  // The picture size arrives with the camera's first frame.
  const pic = await until('the first picture of plaza', async () => {
    const r = await adm.call('GET', '/api/cameras');
    const c = r.body.cameras.find((x) => x.id === CAMERA);
    return c && c.width > 0 ? { width: c.width, height: c.height } : null;
  }, 40_000);
  console.log(`first picture after ${Date.now() - T0} ms`);
  const { context, page } = await node.login('adm');
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.click('#nav-config');
  await page.waitForSelector('#config-forms .camera-form');
  await page.selectOption('#config-camera', CAMERA);
  await page.waitForFunction(() => document.querySelector('#zones-size').textContent.startsWith('Picture'));
  const before = (await adm.call('GET', '/api/config')).body.cameras.find((c) => c.id === CAMERA);
  const rule = before.rules.find((r) => r.zone === 'lamp');

  // "Draw on picture", four clicks, then the first point again closes the outline.
  const zone = page.locator(`#config-forms .camera-form[data-camera="${CAMERA}"] .zone[data-zone="lamp"]`);
  await zone.locator('.draw-zone').click();
  await page.locator('#zones-stage').scrollIntoViewIfNeeded();
  const box = await page.locator('#zones-svg').boundingBox();
  const at = (x, y) => [box.x + (x / pic.width) * box.width, box.y + (y / pic.height) * box.height];
  const drawn = [[100, 120], [420, 120], [420, 330], [100, 330]];
  for (const p of drawn) await page.mouse.click(...at(...p));
  await page.mouse.click(...at(...drawn[0]));
  assert.equal(await page.isDisabled('#zones-finish'), true, 'the outline is closed');
  const rows = (await zone.locator('textarea[name="polygon"]').inputValue()).split('\n');
  assert.equal(rows.length, 4, rows.join('|'));
  await page.click('#config-save');
  await page.waitForFunction(() => document.querySelector('#config-msg').textContent === 'Applied.', null, { timeout: 15_000 });
  await shoot(page, 'admin-zone-drawn');

  const held = (await adm.call('GET', '/api/config')).body.cameras.find((c) => c.id === CAMERA);
  const lamp = held.zones.find((z) => z.name === 'lamp');
  lamp.polygon.forEach((p, i) => assert.ok(near(p, drawn[i]), `point ${i}: ${p} instead of about ${drawn[i]}`));
  const moved = held.rules.find((r) => r.id === rule.id);
  assert.equal(moved.version, rule.version + 1, 'the rule on a moved zone gets a new version');
  // Rules rebuilt: the running camera reports the new zone.
  await until('the rebuilt zone in /api/cameras', async () => {
    const c = (await adm.call('GET', '/api/cameras')).body.cameras.find((x) => x.id === CAMERA);
    const z = c && c.zones.find((x) => x.name === 'lamp');
    return z && z.polygon.length === 4 && z.polygon.every((p, i) => near(p, drawn[i]));
  }, 15_000);

  // A point at x = 5000: refused, its key named next to the polygon, the file and rules unchanged.
  const file = readFileSync(node.config, 'utf8');
  await zone.locator('textarea[name="polygon"]').fill('100, 120\n5000, 120\n420, 330');
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/config') && r.request().method() === 'PUT');
  await page.click('#config-save');
  const refused = await answer;
  assert.equal(refused.status(), 400);
  const body = await refused.json();
  const key = `cameras.${CAMERA}.zones.lamp.polygon[1]`;
  assert.ok(body.errors.some((e) => e.key === key && /outside/.test(e.message)), JSON.stringify(body));
  const fieldError = await zone.locator('.field[data-field="polygon"] .field-error').textContent();
  assert.match(fieldError, /polygon\[1\].*outside/);
  assert.equal(readFileSync(node.config, 'utf8'), file, 'the config file is unchanged');
  assert.deepEqual((await adm.call('GET', '/api/config')).body.cameras.find((c) => c.id === CAMERA), held);
  await shoot(page, 'admin-zone-refused');

  // A parameter changed through the API, version left as it was: raised by the server.
  const cfg = (await adm.call('GET', '/api/config')).body;
  const r = cfg.cameras.find((c) => c.id === CAMERA).rules.find((x) => x.id === rule.id);
  r.cooldown_s = (r.cooldown_s ?? 30) + 5;
  const put = await adm.call('PUT', '/api/config', cfg);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.cameras.find((c) => c.id === CAMERA).rules.find((x) => x.id === rule.id).version, rule.version + 2);
  assert.deepEqual(page.__errors, []);
  await context.close();
  console.log(`zones and versions: ${Date.now() - t0} ms`);
});

test('the auditor pages, filters by user and action, and exports the trail as CSV', async () => {
  const t0 = Date.now();
  const aud = await node.apiAs('aud');
  // Enough entries for two pages of 25, whatever ran before.
  for (let i = 0; i < 30; i += 1) await aud.call('GET', '/api/audit?limit=1');
  const { context, page } = await node.login('aud');
  await page.click('#nav-audit');
  await page.waitForSelector('#audit-table tbody tr');
  await page.selectOption('#audit-limit', '25');
  await page.click('#audit-refresh');
  const seqs = () => page.locator('#audit-table tbody tr').evaluateAll((rs) => rs.map((r) => Number(r.dataset.seq)));
  await page.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length === 25);
  const first = await seqs();
  await page.click('#audit-older');
  await page.waitForFunction((top) => Number(document.querySelector('#audit-table tbody tr').dataset.seq) < top, first[24]);
  const second = await seqs();
  assert.ok(second.every((s) => s < Math.min(...first)), `page 2 ${second} overlaps page 1 ${first}`);
  // Back to the newest page, which holds the readings made since (each one is audited).
  await page.click('#audit-newer');
  await page.waitForFunction((top) => Number(document.querySelector('#audit-table tbody tr').dataset.seq) > top, first[0]);
  assert.equal(await page.isDisabled('#audit-newer'), true);

  // By user, then by an action picked exactly, then by any text in the action.
  await page.fill('#audit-actor', 'adm');
  await page.click('#audit-refresh');
  await page.waitForFunction(() => [...document.querySelectorAll('#audit-table td.actor')].every((td) => td.textContent === 'adm'));
  const actors = await page.locator('#audit-table td.actor').allTextContents();
  assert.ok(actors.length > 0 && actors.every((a) => a === 'adm'), actors.join());
  await page.fill('#audit-filter', 'config.change');
  await page.click('#audit-refresh');
  await page.waitForFunction(() => [...document.querySelectorAll('#audit-table td.action')].every((td) => td.textContent === 'config.change'));
  assert.equal(await page.locator('#audit-table tbody tr').count(), 2, 'the two changes the admin applied');
  await page.fill('#audit-filter', 'view');
  await page.click('#audit-refresh');
  await page.waitForFunction(() => [...document.querySelectorAll('#audit-table td.action')].some((td) => td.textContent !== 'config.change'));
  const actions = await page.locator('#audit-table td.action').allTextContents();
  assert.ok(actions.length > 0 && actions.every((a) => a.includes('view')), actions.join());
  await shoot(page, 'admin-audit-filtered');

  // The CSV holds what the filters show, and the export is itself in the trail.
  await page.fill('#audit-filter', '');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'seq,at_ms,time_utc,actor,action,target,details,prev_hash,hash');
  assert.ok(csv.length > 5 && csv.slice(1).every((l) => l.split(',')[3] === 'adm'), csv.slice(0, 3).join('\n'));
  const exports = await aud.call('GET', '/api/audit?action=audit.export');
  assert.equal(exports.body.entries[0].actor, 'aud');
  assert.match(exports.body.entries[0].details, /"actor":"adm"/);
  assert.deepEqual(page.__errors, []);
  await context.close();
  console.log(`audit paging, filters and export: ${Date.now() - t0} ms (${csv.length - 1} rows exported)`);
});

test('search: the example phrase, one day in the city, a camera by name, the clip beside its result', async () => {
  const t0 = Date.now();
  const op = await node.apiAs('op');
  // The example, exactly as the placeholder says it: understood, words naming a zone kind included.
  const ex = await op.call('GET', `/api/search?q=${encodeURIComponent('red car in the square after 18:00')}`);
  assert.equal(ex.status, 200, JSON.stringify(ex.body));
  assert.ok(ex.body.understood.some((u) => /^zone: lamp|^camera: plaza/.test(u)), ex.body.understood.join(' | '));
  assert.ok(ex.body.understood.some((u) => /^time: today \(\d{4}-\d\d-\d\d 18:00/.test(u)), ex.body.understood.join(' | '));
  // One day, from = to, in Paris; and without any date at all.
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
  const one = await op.call('GET', `/api/search?from=${day}&to=${day}`);
  assert.equal(one.status, 200, JSON.stringify(one.body));
  const midnight = new Date(one.body.filters.from);
  assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(midnight), '00:00');
  assert.equal(new Date(one.body.filters.to) - midnight >= 23 * 3600e3, true, 'the whole day');
  assert.equal((await op.call('GET', '/api/search?class=person')).status, 200, 'filters without dates');
  const byName = await op.call('GET', `/api/search?camera=${encodeURIComponent('Place de la Gare (PETS 2009)')}`);
  assert.equal(byName.status, 200, JSON.stringify(byName.body));

  const { context, page } = await node.login('op');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#nav-search');
  await page.waitForFunction(() => document.querySelectorAll('#search-camera option').length > 1);
  await page.fill('#search-form [name="q"]', 'red car in the square after 18:00');
  await page.click('#search-form button[type="submit"]');
  await page.waitForFunction(() => /understood as/.test(document.querySelector('#search-info').textContent));
  assert.doesNotMatch(await page.textContent('#search-info'), /could not understand/);
  await page.fill('#search-form [name="q"]', '');
  await page.fill('#search-form [name="from"]', day);
  await page.fill('#search-form [name="to"]', day);
  await page.selectOption('#search-camera', { label: 'Place de la Gare (PETS 2009) (plaza)' });
  const sent = page.waitForRequest((r) => r.url().includes('/api/search?'));
  await page.click('#search-form button[type="submit"]');
  assert.match((await sent).url(), /camera=plaza/);
  await page.waitForFunction(() => /result/.test(document.querySelector('#search-info').textContent));
  assert.doesNotMatch(await page.textContent('#search-info'), /reversed|unbounded/);

  // A result's clip opens right under its row of results, not at the bottom of the page.
  await page.fill('#search-form [name="from"]', '');
  await page.fill('#search-form [name="to"]', '');
  await page.selectOption('#search-camera', '');
  await until('a track in the index', async () => (await op.call('GET', '/api/search?limit=1')).body.total > 0, 60_000, 1000);
  await page.click('#search-form button[type="submit"]');
  const hit = page.locator('#search-results .search-hit').first();
  await hit.waitFor();
  await hit.click();
  const player = page.locator('#search-results #search-player');
  await player.waitFor();
  const hb = await hit.boundingBox();
  const pb = await player.boundingBox();
  console.log(`clip player ${Math.round(pb.y - (hb.y + hb.height))} px under its result`);
  assert.ok(pb.y >= hb.y + hb.height - 1 && pb.y - (hb.y + hb.height) < 400, `player at ${pb.y}, result ends at ${hb.y + hb.height}`);
  assert.equal(await hit.getAttribute('aria-expanded'), 'true');
  await shoot(page, 'admin-search-clip');
  assert.deepEqual(page.__errors, []);
  await context.close();
  console.log(`search: ${Date.now() - t0} ms`);
});
