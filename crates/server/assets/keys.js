// Keyboard triage: shortcuts over the alert queue and the detail pane, and the list of them
// (the "Keyboard shortcuts" panel, opened by "?"). Ignored while typing in a field, except Esc
// (back to the queue) and Enter in an action's field (that action's button). The detail pane's
// buttons and fields are reached by their ids, whatever module draws them.
import { $, h } from './dom.js';
import { register, t } from './i18n.js';
import { cursorAlert, focusQueue, moveCursor, openCursor, queue, toggleExpand } from './alerts.js';
import { attention, setMuted } from './attention.js';

register({
  'Keyboard shortcuts': 'Raccourcis clavier',
  'Keyboard shortcuts (press ?)': 'Raccourcis clavier (touche ?)',
  'next alert': 'alerte suivante', 'previous alert': 'alerte précédente', 'first / last alert': 'première / dernière alerte',
  'open the alert': "ouvrir l'alerte", 'show / hide the alerts of an incident': "afficher / masquer les alertes d'un incident",
  'take the alert': "prendre l'alerte", 'confirm': 'confirmer', 'dismiss: choose the reason, then Enter': 'écarter : choisir le motif, puis Entrée',
  'dispatch: type the unit, then Enter': "envoyer une patrouille : saisir l'unité, puis Entrée",
  'resolve: type the note, then Enter': 'résoudre : saisir la note, puis Entrée',
  'back to the queue': 'retour à la file', 'mute / unmute the signal': 'couper / rétablir le signal', 'show this list': 'afficher cette liste',
});

export const SHORTCUTS = [
  ['j / ↓', 'next alert'], ['k / ↑', 'previous alert'], ['Home / End', 'first / last alert'], ['Enter / Space', 'open the alert'],
  ['→ / ←', 'show / hide the alerts of an incident'], ['t', 'take the alert'], ['c', 'confirm'],
  ['d', 'dismiss: choose the reason, then Enter'], ['p', 'dispatch: type the unit, then Enter'],
  ['r', 'resolve: type the note, then Enter'], ['Esc', 'back to the queue'], ['m', 'mute / unmute the signal'], ['?', 'show this list'],
];

/** Keys the console acted on (the tests count keys per triage). */
export const keyStats = { handled: 0 };

/** Enter in one of these fields presses its action's button (unless a form does it already). */
const FIELD_BUTTON = { 'dismiss-reason': '#btn-dismiss', 'dismiss-text': '#btn-dismiss', 'dispatch-unit': '#btn-dispatch', 'resolve-note': '#btn-resolve' };

const typing = (el) => !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));

/** Waits (a few frames, at most `ms`) for an element the detail pane is about to draw. */
async function element(sel, ms = 3000) {
  const end = performance.now() + ms;
  for (;;) {
    const el = document.querySelector(sel);
    if (el && !el.disabled) return el;
    if (performance.now() > end) return null;
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** The cursor's alert is what an action acts on: opened first if the pane shows another. */
async function act(name) {
  const a = cursorAlert();
  if (!a) return;
  if (queue.selected !== a.id) await openCursor();
  else if (queue.detailFor !== a.id) await queue.opening;
  const click = async (sel) => (await element(sel))?.click();
  const focus = async (sel) => (await element(sel))?.focus();
  if (name === 'take') await click('#btn-take');
  else if (name === 'confirm') await click('#btn-confirm');
  else if (name === 'dismiss') await focus('#dismiss-reason');
  else if (name === 'dispatch') await focus('#dispatch-unit');
  else if (name === 'resolve') { if (document.querySelector('#resolve-note')) await focus('#resolve-note'); else await click('#btn-resolve'); }
}

function toggleHelp(open) {
  const help = $('#shortcuts-help');
  help.open = open === undefined ? !help.open : open;
  if (help.open) help.querySelector('summary').focus();
}

function onKey(e) {
  if ($('#app').hidden || $('#view-alerts').hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  const el = document.activeElement;
  if (e.key === 'Escape') {
    if ($('#shortcuts-help').open) toggleHelp(false);
    focusQueue();
    keyStats.handled += 1;
    e.preventDefault();
    return;
  }
  if (typing(el)) {
    // A text field in a form submits it on Enter by itself; a select never does.
    if (e.key === 'Enter' && FIELD_BUTTON[el.id] && !(el.tagName === 'INPUT' && el.form)) {
      e.preventDefault();
      keyStats.handled += 1;
      document.querySelector(FIELD_BUTTON[el.id])?.click();
    }
    return;
  }
  const inQueue = !!el?.closest?.('#queue');
  // Buttons, links and the help's summary keep Enter, Space and the arrows.
  const onControl = !inQueue && !!el && el !== document.body && ['BUTTON', 'A', 'SUMMARY'].includes(el.tagName);
  const arrow = e.key.startsWith('Arrow') || e.key === 'Home' || e.key === 'End';
  if ((onControl && (arrow || e.key === 'Enter')) || (arrow && !inQueue && e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return;
  switch (e.key) {
    case 'j': case 'ArrowDown': moveCursor(1); break;
    case 'k': case 'ArrowUp': moveCursor(-1); break;
    case 'Home': moveCursor(-Infinity); break;
    case 'End': moveCursor(Infinity); break;
    case 'ArrowRight': toggleExpand(queue.cursor, true); break;
    case 'ArrowLeft': toggleExpand(queue.cursor, false); break;
    case 'Enter': openCursor(); break;
    case ' ': if (!inQueue) return; openCursor(); break;
    case 't': act('take'); break;
    case 'c': act('confirm'); break;
    case 'd': act('dismiss'); break;
    case 'p': act('dispatch'); break;
    case 'r': act('resolve'); break;
    case 'm': setMuted(!attention.muted); break;
    case '?': toggleHelp(); break;
    default: return;
  }
  keyStats.handled += 1;
  e.preventDefault();
}

/** The shortcut list in the console (always there, folded) and the key handler. */
export function initKeys() {
  const help = $('#shortcuts-help');
  help.replaceChildren(h('summary', { text: t('Keyboard shortcuts (press ?)') }),
    h('dl', { class: 'shortcuts' }, SHORTCUTS.flatMap(([k, what]) => [h('dt', {}, h('kbd', { text: k })), h('dd', { text: t(what) })])));
  document.addEventListener('keydown', onKey);
}
