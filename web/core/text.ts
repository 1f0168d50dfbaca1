// Text as the screens show it, without HTML: a search hit's highlight split into plain and
// marked pieces, `@username` mentions found in a message, and the `@…` being typed.

export interface Piece {
  text: string;
  /** A search match (highlights), or the id of the member mentioned (mentions). */
  mark?: true;
  user?: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Undoes HTML escaping: the five named entities and numeric ones; anything else stays as it is. */
export function unescapeHtml(s: string): string {
  return s.replace(/&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|(amp|lt|gt|quot|apos));/gi, (all, dec?: string, hex?: string, name?: string) => {
    if (name) return ENTITIES[name.toLowerCase()];
    const code = dec ? Number(dec) : parseInt(hex!, 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/**
 * A search result's `highlight` (HTML-escaped text whose matches are wrapped in `<mark>`…`</mark>`)
 * as pieces to show as text nodes and <mark> elements: never parsed as HTML.
 */
export function highlightPieces(highlight: string): Piece[] {
  const out: Piece[] = [];
  let rest = highlight;
  let marked = false;
  while (rest) {
    const tag = marked ? '</mark>' : '<mark>';
    const at = rest.indexOf(tag);
    const chunk = at < 0 ? rest : rest.slice(0, at);
    if (chunk) out.push(marked ? { text: unescapeHtml(chunk), mark: true } : { text: unescapeHtml(chunk) });
    if (at < 0) break;
    rest = rest.slice(at + tag.length);
    marked = !marked;
  }
  return out;
}

// As the server reads them: letters, digits and @ . + - _, after anything that is not one of those.
const AT_NAME = /(^|[^\w.@+-])@([\w.@+-]+)/g;

/**
 * `content` split at each `@username` of a member it mentions (`names`: lowercased username →
 * user id, the message's mentions). A sentence's final "." or "-" is not part of the name.
 */
export function mentionPieces(content: string, names: Map<string, number>): Piece[] {
  if (!names.size || !content.includes('@')) return [{ text: content }];
  const out: Piece[] = [];
  let last = 0;
  for (const m of content.matchAll(AT_NAME)) {
    let name = m[2];
    let user = names.get(name.toLowerCase());
    if (user === undefined) {
      name = name.replace(/[.@+-]+$/, '');
      user = names.get(name.toLowerCase());
    }
    if (user === undefined || !name) continue;
    const start = m.index! + m[1].length;
    if (start > last) out.push({ text: content.slice(last, start) });
    out.push({ text: `@${name}`, user });
    last = start + 1 + name.length;
  }
  if (last < content.length) out.push({ text: content.slice(last) });
  return out;
}

/** The `@…` being typed just before the caret: where it starts (the `@`) and the letters after it. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const m = /(?:^|[^\w.@+-])@([\w.+-]{0,150})$/.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: caret - m[1].length - 1, query: m[1] };
}
