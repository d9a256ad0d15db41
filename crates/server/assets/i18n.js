// The console's languages: English (the keys) and French. A module registers its French
// strings beside the code that shows them (`register({ 'Take': 'Prendre' })`) and writes every
// user-facing string through `t('Held by {user}', { user })`; a key with no French falls back
// to English, never to nothing. The static page is translated once by `translatePage`.

const FR = new Map();
const LANGS = ['en', 'fr'];

function initial() {
  try { const saved = localStorage.getItem('vigie.lang'); if (LANGS.includes(saved)) return saved; } catch (_) { /* no storage */ }
  return (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

export const i18n = { lang: initial() };

/** Adds French translations, keyed by the English text (placeholders `{name}` kept as they are). */
export function register(fr) { for (const [en, f] of Object.entries(fr)) FR.set(en, f); }

/** The text of `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = (i18n.lang === 'fr' && FR.get(key)) || key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** Dates and times as the city reads them, in the console's language. */
export const locale = () => (i18n.lang === 'fr' ? 'fr-FR' : 'en-GB');

/** Switches language and remembers it; the caller redraws. */
export function setLang(lang) {
  if (!LANGS.includes(lang)) return;
  i18n.lang = lang;
  try { localStorage.setItem('vigie.lang', lang); } catch (_) { /* no storage */ }
  document.documentElement.lang = lang;
}
