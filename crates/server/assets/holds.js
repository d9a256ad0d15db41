// Legal holds: footage requisitioned for a procedure, kept past retention until released or
// its end date. Supervisors and admins place, release and export; auditors read the list.
import { api, can } from './api.js';
import { $, enc, h } from './dom.js';

const when = (s) => (s ? s.replace('T', ' ').replace('Z', ' UTC') : '');

export async function loadHolds() {
  $('#hold-form').hidden = !can('holds_manage');
  const msg = $('#hold-msg');
  try {
    const r = await api('GET', '/api/holds');
    $('#holds-table tbody').replaceChildren(...r.holds.map(row));
    $('#holds-empty').hidden = r.holds.length > 0;
  } catch (e) { msg.textContent = e.message; msg.className = 'small error'; }
}

function row(hd) {
  const actions = h('td', {});
  if (can('holds_manage') && hd.state === 'active') {
    actions.append(h('button', { class: 'release', onclick: () => release(hd), text: 'Release' }));
    for (const cam of hd.cameras) {
      const href = `/api/holds/${hd.id}/export?camera=${enc(cam)}&from=${enc(hd.from)}&to=${enc(hd.to)}`;
      actions.append(' ', h('a', { class: 'export', href, download: `hold-${hd.id}-${cam}.mp4`, text: `Export ${cam} (unblurred)` }));
    }
  }
  const exports = hd.exports.map((x) => `${x.camera} ${when(x.at)} by ${x.actor}: sha256 ${x.sha256}`).join('\n');
  return h('tr', { 'data-hold': hd.id },
    h('td', { text: hd.id }), h('td', { class: 'reference', text: hd.reference }), h('td', { text: hd.cameras.join(', ') }),
    h('td', { text: `${when(hd.from)} → ${when(hd.to)}` }), h('td', { text: hd.until ? when(hd.until) : 'until released' }),
    h('td', { class: 'state', text: hd.state }), h('td', { class: 'small', text: hd.reason }),
    h('td', { class: 'small exports', text: exports || '—' }), actions);
}

async function release(hd) {
  const reason = prompt(`Release hold #${hd.id} (${hd.reference}): why?`);
  if (!reason) return;
  const msg = $('#hold-msg');
  try {
    await api('POST', `/api/holds/${hd.id}/release`, { reason });
    msg.textContent = `Hold #${hd.id} released: its footage is back under retention.`; msg.className = 'small ok';
    loadHolds();
  } catch (e) { msg.textContent = e.message; msg.className = 'small error'; }
}

// The datetime-local inputs are read as UTC, as the server stores and shows every time.
const utc = (v) => (v ? `${v.length === 16 ? `${v}:00` : v}Z` : undefined);

export async function placeHold(ev) {
  ev.preventDefault();
  const f = ev.target;
  const msg = $('#hold-msg');
  const body = {
    cameras: f.cameras.value.split(',').map((s) => s.trim()).filter(Boolean),
    from: utc(f.from.value), to: utc(f.to.value), reference: f.reference.value, reason: f.reason.value,
    until: utc(f.until.value),
  };
  try {
    const hd = await api('POST', '/api/holds', body);
    msg.textContent = `Hold #${hd.id} placed.`; msg.className = 'small ok';
    f.reset();
    loadHolds();
  } catch (e) { msg.textContent = e.message; msg.className = 'small error'; }
}
