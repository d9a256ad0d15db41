// Legal holds: footage requisitioned for a procedure, kept past retention until released or
// its end date. Supervisors and admins place, release and export; auditors read the list.
import { api, can } from './api.js';
import { $, enc, h } from './dom.js';
import { register, t } from './i18n.js';

register({
  Release: 'Lever',
  'Release hold #{id} ({reference})': 'Lever la réquisition n° {id} ({reference})',
  'Export {camera} (unblurred)': 'Exporter {camera} (non flouté)',
  '{camera} {at} by {actor}: sha256 {sha}': '{camera} {at} par {actor} : sha256 {sha}',
  'until released': "jusqu'à la levée",
  active: 'active', released: 'levée', expired: 'expirée',
  'Release hold #{id} ({reference}): why?': 'Lever la réquisition n° {id} ({reference}) : pour quel motif ?',
  'Hold #{id} released: its footage is back under retention.': 'Réquisition n° {id} levée : ses images reviennent sous la durée de conservation.',
  'Hold #{id} placed.': 'Réquisition n° {id} placée.',
});

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
    actions.append(h('button', {
      class: 'release', onclick: () => release(hd), text: t('Release'),
      'aria-label': t('Release hold #{id} ({reference})', { id: hd.id, reference: hd.reference }),
    }));
    for (const cam of hd.cameras) {
      const href = `/api/holds/${hd.id}/export?camera=${enc(cam)}&from=${enc(hd.from)}&to=${enc(hd.to)}`;
      actions.append(' ', h('a', { class: 'export', href, download: `hold-${hd.id}-${cam}.mp4`, text: t('Export {camera} (unblurred)', { camera: cam }) }));
    }
  }
  const exports = hd.exports.map((x) => t('{camera} {at} by {actor}: sha256 {sha}', { camera: x.camera, at: when(x.at), actor: x.actor, sha: x.sha256 })).join('\n');
  return h('tr', { 'data-hold': hd.id },
    h('td', { text: hd.id }), h('td', { class: 'reference', text: hd.reference }), h('td', { text: hd.cameras.join(', ') }),
    h('td', { text: `${when(hd.from)} → ${when(hd.to)}` }), h('td', { text: hd.until ? when(hd.until) : t('until released') }),
    h('td', { class: 'state', 'data-state': hd.state, text: t(hd.state) }), h('td', { class: 'small', text: hd.reason }),
    h('td', { class: 'small exports', text: exports || '—' }), actions);
}

async function release(hd) {
  const reason = prompt(t('Release hold #{id} ({reference}): why?', { id: hd.id, reference: hd.reference }));
  if (!reason) return;
  const msg = $('#hold-msg');
  try {
    await api('POST', `/api/holds/${hd.id}/release`, { reason });
    msg.textContent = t('Hold #{id} released: its footage is back under retention.', { id: hd.id }); msg.className = 'small ok';
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
    msg.textContent = t('Hold #{id} placed.', { id: hd.id }); msg.className = 'small ok';
    f.reset();
    loadHolds();
  } catch (e) { msg.textContent = e.message; msg.className = 'small error'; }
}
