// The search text, parsed by us and never handed to a database as query syntax: words and
// quoted phrases become runs of letters and digits, from which the FTS5 expression and the
// PostgreSQL tsquery are built with every token quoted.
import { fieldError } from '../../errors.js';
import { STOP_WORDS } from './search.stopwords.js';

/** One word matched by stem and, when `prefix`, as the start of longer words. */
export interface WordPart {
  kind: 'word';
  text: string;
  prefix: boolean;
}

/** Words that must appear next to each other, in this order (each by stem, no prefix). */
export interface PhrasePart {
  kind: 'phrase';
  words: string[];
}

export type QueryPart = WordPart | PhrasePart;

export const QUERY_MAX_CHARS = 500;
export const QUERY_MAX_WORDS = 16;
/** Shorter words match whole words only: a one- or two-letter prefix would read most of the index. */
export const PREFIX_MIN_CHARS = 3;

const RUN = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;
// Scripts written without spaces are indexed as long runs: a two-character prefix is selective.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const QUOTES = /[\u201c\u201d\u201e\u201f\u00ab\u00bb]/g;

const runsOf = (text: string) => (text.match(RUN) ?? []).map((r) => r.toLowerCase());
const isStopWord = (w: string) => STOP_WORDS.has(w);

/**
 * Every word must match (AND). `"…"` makes a phrase (an unclosed quote runs to the end); a
 * quoted single word matches by stem only, without prefix. Everything that is not a letter or
 * a digit separates words: `OR`, `-`, `*`, parentheses and the like are plain text, and a word
 * such as `e-mail` is the phrase "e mail". Very common English words (PostgreSQL's stop words)
 * are left out unless they are inside a phrase with another word. 400 `{"q": [...]}` when no
 * word is left or there are more than QUERY_MAX_WORDS.
 */
export function parseQuery(q: string): QueryPart[] {
  const segments = q.normalize('NFC').replace(QUOTES, '"').split('"');
  const parts: QueryPart[] = [];
  const seen = new Set<string>();
  let words = 0;
  const add = (part: QueryPart) => {
    const key = part.kind === 'word' ? `w:${part.text}:${part.prefix}` : `p:${part.words.join(' ')}`;
    if (seen.has(key)) return;
    seen.add(key);
    parts.push(part);
    words += part.kind === 'word' ? 1 : part.words.length;
  };
  segments.forEach((segment, i) => {
    if (i % 2 === 1) {
      const runs = runsOf(segment);
      if (runs.length === 0 || runs.every(isStopWord)) return;
      if (runs.length === 1) add({ kind: 'word', text: runs[0], prefix: false });
      else add({ kind: 'phrase', words: runs });
      return;
    }
    for (const chunk of segment.split(/\s+/)) {
      const runs = runsOf(chunk);
      if (runs.length === 0) continue;
      if (runs.length > 1) {
        if (!runs.every(isStopWord)) add({ kind: 'phrase', words: runs });
        continue;
      }
      const text = runs[0];
      if (isStopWord(text)) continue;
      const length = [...text].length;
      add({ kind: 'word', text, prefix: length >= PREFIX_MIN_CHARS || (length >= 2 && UNSPACED.test(text)) });
    }
  });
  if (parts.length === 0) {
    throw fieldError('q', 'Nothing to search for: enter a word of letters or digits (very common words such as "the" are not searched on their own).');
  }
  if (words > QUERY_MAX_WORDS) throw fieldError('q', `Too many words: search for at most ${QUERY_MAX_WORDS}.`);
  return parts;
}

/**
 * The FTS5 expression (porter tokenizer): `"tok"*` for a prefix, `"tok"` for a word,
 * `"a b c"` for a phrase, joined by AND. Tokens hold letters and digits only, so quoting
 * them needs no escaping and the expression cannot be a syntax error.
 *
 * FTS5 stems a prefix's text too, and Porter turns a final y into i ("deploy" → "deploi")
 * where a longer word keeps it ("deployment" → "deploy"); so for a word ending in y the prefix
 * is taken without the y ("deplo"*), which matches both.
 */
export function fts5Expression(parts: QueryPart[]): string {
  return parts
    .map((p) => {
      if (p.kind === 'phrase') return `"${p.words.join(' ')}"`;
      if (!p.prefix) return `"${p.text}"`;
      const text = /^[a-z]{4,}y$/.test(p.text) ? p.text.slice(0, -1) : p.text;
      return `"${text}"*`;
    })
    .join(' AND ');
}

/**
 * The text for PostgreSQL's `to_tsquery('english', …)` (passed as a bound parameter):
 * `'tok':*` for a prefix, `'tok'` for a word, `'a' <-> 'b'` for a phrase, joined by `&`.
 * The `english` configuration stems each token and drops stop words inside phrases.
 */
export function tsqueryText(parts: QueryPart[]): string {
  return parts
    .map((p) => {
      if (p.kind === 'phrase') return `(${p.words.map((w) => `'${w}'`).join(' <-> ')})`;
      return p.prefix ? `'${p.text}':*` : `'${p.text}'`;
    })
    .join(' & ');
}
