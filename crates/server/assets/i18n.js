// The console's languages: English (the keys) and French. A module registers its French
// strings beside the code that shows them (`register({ 'Take': 'Prendre' })`) and writes every
// user-facing string through `t('Held by {user}', { user })`; a key with no French falls back
// to English, never to nothing. The static page is translated by `translatePage`, at start and
// on every switch; modules that draw text redraw it on `onLangChange`.

const FR = new Map();
const LANGS = ['en', 'fr'];
const changed = [];

function initial() {
  try { const saved = localStorage.getItem('vigie.lang'); if (LANGS.includes(saved)) return saved; } catch (_) { /* no storage */ }
  // Node (the modules' unit tests) may have no navigator.
  const nav = typeof navigator === 'undefined' ? '' : navigator.language || '';
  return nav.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

/** `lang`: the console's language; `timeZone`: the city's (IANA name), once the server said it. */
export const i18n = { lang: initial(), timeZone: null };

if (typeof document !== 'undefined') document.documentElement.lang = i18n.lang;

/** Adds French translations, keyed by the English text (placeholders `{name}` kept as they are). */
export function register(fr) { for (const [en, f] of Object.entries(fr)) FR.set(en, f); }

/** The text of `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = (i18n.lang === 'fr' && FR.get(key)) || key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** Dates and times as the city reads them, in the console's language. */
export const locale = () => (i18n.lang === 'fr' ? 'fr-FR' : 'en-GB');

/** `fn(lang)` after every switch of language (the page is translated before). */
export function onLangChange(fn) { changed.push(fn); }

/** Switches language, remembers it, translates the page and tells the modules to redraw. */
export function setLang(lang) {
  if (!LANGS.includes(lang) || lang === i18n.lang) return;
  i18n.lang = lang;
  try { localStorage.setItem('vigie.lang', lang); } catch (_) { /* no storage */ }
  document.documentElement.lang = lang;
  translatePage();
  for (const fn of changed) fn(lang);
}

// The page's English is kept beside each node it was read from, so that switching back finds
// it: a text or attribute still showing what was last written is translated from its English;
// one a module has since changed is read afresh (and left alone unless its text is a key).
const ATTRS = ['placeholder', 'aria-label', 'title', 'alt'];
const texts = new WeakMap();
const attrs = new WeakMap();
const norm = (s) => s.replace(/\s+/g, ' ').trim();

function translated(current, memo) {
  const english = memo && memo.shown === current ? memo.en : norm(current);
  if (!english || !FR.has(english)) return null;
  return { en: english, shown: i18n.lang === 'fr' ? FR.get(english) : english };
}

/** Translates the static text of the page (text nodes and the attributes people read). */
export function translatePage(root = document.documentElement) {
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.parentNode && /^(SCRIPT|STYLE)$/.test(n.parentNode.nodeName) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const next = translated(n.data, texts.get(n));
    if (!next) continue;
    // Words beside an inline element keep the space that separates them from it.
    const shown = `${/^\s/.test(n.data) ? ' ' : ''}${next.shown}${/\s$/.test(n.data) ? ' ' : ''}`;
    texts.set(n, { en: next.en, shown });
    if (n.data !== shown) n.data = shown;
  }
  for (const el of root.querySelectorAll(ATTRS.map((a) => `[${a}]`).join(','))) {
    let memo = attrs.get(el);
    if (!memo) { memo = {}; attrs.set(el, memo); }
    for (const a of ATTRS) {
      const cur = el.getAttribute(a);
      if (cur === null) continue;
      const next = translated(cur, memo[a]);
      if (!next) continue;
      memo[a] = next;
      if (cur !== next.shown) el.setAttribute(a, next.shown);
    }
  }
}
