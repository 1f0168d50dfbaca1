// Hash routes (#/login, #/signup, #/c/<room id>, #/c/<room id>/m/<message id>, #/search?q=…&in=<room id>,
// #/invite/<code>, #/admin), so client routes never collide with API paths.
import { signal } from '@preact/signals';

export type Route =
  | { name: 'login' }
  | { name: 'signup' }
  | { name: 'home' }
  | { name: 'admin' }
  | { name: 'room'; roomId: number; messageId?: number }
  | { name: 'search'; q: string; roomId: number | null }
  | { name: 'invite'; code: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/login') return { name: 'login' };
  if (path === '/signup') return { name: 'signup' };
  if (path === '/admin') return { name: 'admin' };
  const m = /^\/c\/(\d{1,15})(?:\/m\/(\d{1,15}))?$/.exec(path);
  if (m) return m[2] ? { name: 'room', roomId: Number(m[1]), messageId: Number(m[2]) } : { name: 'room', roomId: Number(m[1]) };
  const s = /^\/search\?(.*)$/.exec(path);
  if (s) {
    const params = new URLSearchParams(s[1]);
    const room = Number(params.get('in'));
    return { name: 'search', q: params.get('q') ?? '', roomId: Number.isSafeInteger(room) && room > 0 ? room : null };
  }
  const i = /^\/invite\/([\w.~%-]{1,300})$/.exec(path);
  if (i) return { name: 'invite', code: decode(i[1]) };
  return { name: 'home' };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export const route = signal<Route>(parseRoute(location.hash));
addEventListener('hashchange', () => (route.value = parseRoute(location.hash)));

export function navigate(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
  else route.value = parseRoute(hash);
}

export const roomHref = (roomId: number) => `#/c/${roomId}`;
/** A message in its conversation: the conversation opens there (a thread reply in its thread). */
export const messageHref = (roomId: number, messageId: number) => `#/c/${roomId}/m/${messageId}`;
export const searchHref = (q: string, roomId: number | null = null) => `#/search?${new URLSearchParams(roomId ? { q, in: String(roomId) } : { q })}`;

/** Where to go once logged in: the page that asked for a log-in (an invite), else the conversations. */
export const afterLogin = signal('#/');
