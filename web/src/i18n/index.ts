// Languages: English and Bahasa Indonesia, chosen by the browser's language, switched by the user
// (remembered in localStorage); numbers and dates formatted in the chosen locale.
import { en, type Key } from './en.js';
import { id } from './id.js';

export type { Key };
export type Lang = 'en' | 'id';
export const LANGS: readonly Lang[] = ['en', 'id'];
const DICTS: Record<Lang, Record<Key, string>> = { en, id };
const LOCALES: Record<Lang, string> = { en: 'en-GB', id: 'id-ID' };
const STORAGE = 'jejak.lang';

/** The language stored by the switch, else the first of the browser's languages we have. */
export function initialLang(): Lang {
  const stored = safeStorage()?.getItem(STORAGE);
  if (stored === 'en' || stored === 'id') return stored;
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'id' || base === 'in' || base === 'ms') return 'id';
    if (base === 'en') return 'en';
  }
  return 'en';
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function storeLang(l: Lang): void {
  safeStorage()?.setItem(STORAGE, l);
}

/** The strings and formats of one language. */
export interface I18n {
  lang: Lang;
  t: (key: Key, params?: Record<string, string | number>) => string;
  num: (n: number | bigint) => string;
  date: (d: Date) => string;
  /** An amount in minor units of an ISO 4217 currency. */
  money: (minor: number, currency: string) => string;
}

export function i18n(lang: Lang): I18n {
  const dict = DICTS[lang];
  const nf = new Intl.NumberFormat(LOCALES[lang]);
  const df = new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeStyle: 'short' });
  return {
    lang,
    t: (key, params) => {
      const s = dict[key];
      // A missing string shows as its key in brackets, which the browser tests look for.
      if (s === undefined) return `⟦${key}⟧`;
      return params ? s.replace(/\{(\w+)\}/g, (m, p: string) => (p in params ? String(params[p]) : m)) : s;
    },
    num: (n) => nf.format(n),
    date: (d) => (Number.isNaN(d.getTime()) ? '—' : df.format(d)),
    money: (minor, currency) => {
      try {
        const f = new Intl.NumberFormat(LOCALES[lang], { style: 'currency', currency });
        return f.format(minor / 10 ** (f.resolvedOptions().maximumFractionDigits ?? 2));
      } catch {
        return `${nf.format(minor)} ${currency}`;
      }
    },
  };
}
