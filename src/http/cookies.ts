// The little of RFC 6265 the browser session needs: read one cookie from a Cookie header, write a
// Set-Cookie value. Cookie values are never logged (the logger drops req.headers.cookie, and
// responses are logged by status only).

/** Every value of cookie `name` in a Cookie header, in the order sent (the most specific path first). */
export function readCookies(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value) out.push(value);
  }
  return out;
}

export interface CookieOptions {
  path: string;
  /** 0 clears the cookie. */
  maxAgeSec: number;
  secure: boolean;
}

/** An HttpOnly, SameSite=Strict cookie: no script reads it and no other site's request carries it. */
export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  if (!/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/.test(value)) throw new Error('cookie value has characters a cookie cannot hold');
  return `${name}=${value}; HttpOnly; SameSite=Strict; Path=${o.path}; Max-Age=${o.maxAgeSec}${o.secure ? '; Secure' : ''}`;
}
