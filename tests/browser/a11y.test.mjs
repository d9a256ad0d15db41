// Accessibility and languages of the console, in Debian's Chromium against a real node: axe-core's
// WCAG 2.1 A/AA rules over every view of the console and an opened alert, in English and in French, with no
// serious or critical violation; the French interface (switch remembered, page and menus
// translated, <html lang>, times in the city's zone) and back to English. Screenshots of every
// view in French are kept as artifacts (a11y-fr-VIEW.png, as the role with most rights on it sees it). Port 18161.
// The four roles run side by side (one browser context each) to keep the file within its time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Node, axeCheck, shoot } from './harness.mjs';

const node = new Node({
  name: 'a11y', port: 18161,
  users: { op: 'operator', sup: 'supervisor', adm: 'admin', aud: 'auditor' },
  // Alerts in the queue from the start, so the queue's rows and an alert's detail pane are checked.
  prepare: (n) => {
    const r = n.vigie(['bench', 'seed-alerts', '--data', n.data, '--count', '30']);
    assert.equal(r.status, 0, `seed-alerts: ${r.stderr}`);
  },
});

before(async () => {
  await node.start();
  // A legal hold, so that the holds table has rows with their buttons and links to check.
  const sup = await node.apiAs('sup');
  const at = (ms) => new Date(ms).toISOString().slice(0, 19) + 'Z';
  const r = await sup.call('POST', '/api/holds', {
    cameras: ['plaza'], from: at(Date.now() - 3_600_000), to: at(Date.now()), reference: 'PV a11y-1', reason: 'accessibility test',
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});

after(() => node.stop());

// What each view draws once its data has come, in each language (the French of a view drawn
// in English before the switch shows that it was drawn again).
const READY = {
  alerts: () => !!document.querySelector('#queue li, #queue-empty:not([hidden])'),
  wall: () => !!document.querySelector('#wall .card, #wall p'),
  search: () => true,
  reports: (fr) => document.querySelector('#report-table thead th')?.textContent === (fr ? 'caméra' : 'camera'),
  audit: () => !!document.querySelector('#audit-table tbody tr'),
  users: () => !!document.querySelector('#users-table tbody tr'),
  config: () => !!document.querySelector('#config-camera option'),
  stats: (fr) => (document.querySelector('#stats-series details summary')?.textContent || '').startsWith(fr ? 'Tableau' : 'Data table'),
  calibration: () => !!document.querySelector('#calibration-rules tbody tr'),
  holds: () => !!document.querySelector('#holds-table tbody tr'),
};

// Whose French screenshot of each view is kept: the role with the most controls on it.
const SHOT_BY = {
  alerts: 'sup', wall: 'sup', search: 'sup', reports: 'sup', stats: 'sup', calibration: 'sup', holds: 'sup',
  users: 'adm', config: 'adm', audit: 'aud',
};

const serious = (violations) => violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
const show = (where, vs) => vs.map((v) => `${where}: [${v.impact}] ${v.id} — ${v.help}\n    ${v.nodes.slice(0, 6).join('\n    ')}`).join('\n');

/** Opens each view of the menu, checks it with axe, and shoots it (in French); returns what failed. */
async function checkViews(page, role, lang, views, timing) {
  const failed = [];
  for (const view of views) {
    await page.click(`#nav-${view}`);
    await page.waitForSelector(`#view-${view}:not([hidden])`);
    await page.waitForFunction(READY[view] || (() => true), lang === 'fr', { timeout: 15_000 });
    const t0 = Date.now();
    const found = serious(await axeCheck(page));
    timing.axe.push(Date.now() - t0);
    if (found.length) failed.push(show(`${role} ${lang} ${view}`, found));
    if (lang === 'fr' && SHOT_BY[view] === role) await shoot(page, `a11y-fr-${view}`);
  }
  return failed;
}

test('every view passes axe-core (WCAG 2.1 AA) in English and in French, an opened alert included', async () => {
  const started = Date.now();
  const timing = { axe: [] };
  const failed = [];

  // The login page, in both languages, before anyone is logged in.
  const anon = await node.browser.newContext();
  const login = await anon.newPage();
  await login.goto(node.url);
  await login.waitForSelector('#login-view:not([hidden])');
  for (const lang of ['en', 'fr']) {
    await login.selectOption('#login-lang', lang);
    await login.waitForFunction((l) => document.documentElement.lang === l, lang);
    const found = serious(await axeCheck(login));
    if (found.length) failed.push(show(`login ${lang}`, found));
  }
  assert.equal(await login.textContent('#login-btn'), 'Se connecter');
  assert.equal(await login.getAttribute('#lang', 'aria-label'), 'Langue');
  await shoot(login, 'a11y-fr-login');
  await anon.close();

  // Every role's menu, then each view once per language, as the role with the most controls on it
  // sees it (the roles' pages side by side): an operator's views are a supervisor's too.
  const reached = {};
  await Promise.all(['op', 'sup', 'adm', 'aud'].map(async (role) => {
    const { context, page } = await node.login(role);
    reached[role] = await page.$$eval('#nav a', (as) => as.map((a) => a.id.replace('nav-', '')));
    const mine = reached[role].filter((v) => SHOT_BY[v] === role);
    for (const lang of ['en', 'fr']) {
      if (lang === 'fr') await page.selectOption('#lang', 'fr');
      failed.push(...await checkViews(page, role, lang, mine, timing));
      if (role === 'sup') {
        // The detail pane, where operators spend their time: evidence, actions and their fields.
        await page.click('#nav-alerts');
        await page.locator('#queue li[data-id]').first().click();
        await page.waitForSelector('#btn-confirm');
        const t0 = Date.now();
        const found = serious(await axeCheck(page));
        timing.axe.push(Date.now() - t0);
        if (found.length) failed.push(show(`${role} ${lang} alert detail`, found));
        if (lang === 'fr') await shoot(page, 'a11y-fr-alert-detail');
      }
    }
    assert.deepEqual(page.__errors, [], `${role}: errors in the page`);
    await context.close();
  }));
  console.log(`a11y: ${timing.axe.length} axe runs over ${Object.keys(SHOT_BY).length} views and an alert x 2 languages, median ${timing.axe.sort((a, b) => a - b)[timing.axe.length >> 1]} ms, `
    + `max ${Math.max(...timing.axe)} ms; whole check ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`a11y: views reached: ${JSON.stringify(reached)}`);
  assert.deepEqual(reached, {
    op: ['alerts', 'wall', 'search'],
    sup: ['alerts', 'wall', 'search', 'reports', 'stats', 'calibration', 'holds'],
    adm: ['wall', 'users', 'config', 'stats', 'calibration', 'holds'],
    aud: ['reports', 'audit', 'stats', 'calibration', 'holds'],
  });
  assert.equal(failed.length, 0, `serious or critical accessibility violations:\n${failed.join('\n')}`);
});

test('the French interface: switch remembered, page, menu and times in French, and back to English', async () => {
  const { context, page } = await node.login('sup');
  await page.selectOption('#lang', 'fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  // Static page, menu, who is logged in, a module's own text (the holds table) and the title.
  assert.equal(await page.textContent('#nav-holds'), 'Réquisitions');
  assert.equal(await page.textContent('#logout-btn'), 'Se déconnecter');
  assert.equal(await page.textContent('#whoami'), 'sup (superviseur)');
  assert.equal(await page.title(), 'Console Vigie');
  await page.click('#nav-holds');
  await page.locator('#holds-table tbody tr', { hasText: 'PV a11y-1' }).locator('button.release', { hasText: 'Lever' }).waitFor();
  assert.equal(await page.getAttribute('#hold-form [name="cameras"]', 'placeholder'), 'séparées par des virgules');
  assert.equal((await page.textContent('#view-holds h2')).trim(), 'Réquisitions');
  // The current view is marked by more than colour, for assistive technology too.
  assert.equal(await page.getAttribute('#nav-holds', 'aria-current'), 'page');

  // Times are the city's (Europe/Paris in the demo), written the French way.
  const times = await page.evaluate(async () => {
    const { fmtTime } = await import('/assets/dom.js');
    return { winter: fmtTime(Date.UTC(2026, 0, 15, 12, 0, 0)), summer: fmtTime(Date.UTC(2026, 6, 15, 12, 0, 0)) };
  });
  assert.deepEqual(times, { winter: '15/01/2026 13:00:00', summer: '15/07/2026 14:00:00' });

  // Remembered: a new page of the same browser opens in French.
  const again = await context.newPage();
  await again.goto(node.url);
  await again.waitForSelector('#app:not([hidden])');
  await again.waitForFunction(() => document.documentElement.lang === 'fr' && document.querySelector('#nav-holds')?.textContent === 'Réquisitions');
  assert.equal(await again.inputValue('#lang'), 'fr');
  await again.close();

  // Back to English: the English is found again, on the page and in the redrawn view.
  await page.selectOption('#lang', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal(await page.textContent('#nav-holds'), 'Legal holds');
  assert.equal(await page.textContent('#logout-btn'), 'Log out');
  assert.equal(await page.getAttribute('#hold-form [name="cameras"]', 'placeholder'), 'comma-separated');
  await page.locator('#holds-table button.release', { hasText: 'Release' }).first().waitFor();
  assert.equal(await page.title(), 'Vigie console');
  assert.deepEqual(page.__errors, []);
  await context.close();
  console.log(`a11y: whole file ${process.uptime().toFixed(1)} s so far (node start included)`);
});
