// A result's `highlight`: a short piece of its content around the first match, HTML-escaped,
// with each matched word (or phrase) wrapped in <mark>…</mark>. The database marks the matches
// (FTS5 highlight(), PostgreSQL ts_headline()) with markers made for the request, which the
// content cannot contain by chance; everything else is escaped here.
import crypto from 'node:crypto';

export interface Markers {
  open: string;
  close: string;
}

/** Letters and digits only, so that they pass unchanged through ts_headline's options. */
export function newMarkers(): Markers {
  const nonce = crypto.randomBytes(12).toString('hex');
  return { open: `HLo${nonce}`, close: `HLc${nonce}` };
}

/** At most this many characters (code points) of content, plus an ellipsis at a cut end. */
export const SNIPPET_MAX_CHARS = 200;
const BEFORE_FIRST_MATCH = 60;
const WORD_BOUNDARY_SLACK = 20;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

interface Char {
  c: string;
  hit: boolean;
}

/** The content's characters, each flagged when the database marked it; unflagged if the marks do not fit the content. */
function charsOf(content: string, marked: string | null, m: Markers): Char[] {
  const plain = (): Char[] => Array.from(content, (c) => ({ c, hit: false }));
  if (marked === null) return plain();
  const out: Char[] = [];
  let rest = marked;
  let inside = false;
  while (rest.length > 0) {
    const marker = inside ? m.close : m.open;
    const at = rest.indexOf(marker);
    const text = at < 0 ? rest : rest.slice(0, at);
    for (const c of text) out.push({ c, hit: inside });
    if (at < 0) break;
    rest = rest.slice(at + marker.length);
    inside = !inside;
  }
  // The markers must have been inserted into the content and nothing else changed.
  if (out.map((x) => x.c).join('') !== content) return plain();
  return out;
}

const isSpace = (c: Char | undefined) => c !== undefined && /\s/u.test(c.c);

export function snippet(content: string, marked: string | null, m: Markers): string {
  const chars = charsOf(content, marked, m);
  let start = 0;
  let end = chars.length;
  if (chars.length > SNIPPET_MAX_CHARS) {
    const first = Math.max(0, chars.findIndex((x) => x.hit));
    start = Math.max(0, first - BEFORE_FIRST_MATCH);
    // Begin at a word's start when one is near, never after the first match.
    for (let i = start; start > 0 && i < Math.min(first, start + WORD_BOUNDARY_SLACK); i++) {
      if (isSpace(chars[i])) {
        start = i + 1;
        break;
      }
    }
    while (start > 0 && chars[start].hit && chars[start - 1].hit) start--;
    end = Math.min(chars.length, start + SNIPPET_MAX_CHARS);
    for (let i = end; end < chars.length && i > end - WORD_BOUNDARY_SLACK; i--) {
      if (isSpace(chars[i])) {
        end = i;
        break;
      }
    }
    while (end < chars.length && chars[end].hit && chars[end - 1].hit) end++;
  }
  let out = start > 0 ? '…' : '';
  for (let i = start; i < end; ) {
    const hit = chars[i].hit;
    let j = i;
    let text = '';
    while (j < end && chars[j].hit === hit) text += chars[j++].c;
    out += hit ? `<mark>${escapeHtml(text)}</mark>` : escapeHtml(text);
    i = j;
  }
  return end < chars.length ? `${out}…` : out;
}
