// Hash routes (#/login, #/signup, #/c/<room id>, #/invite/<code>, #/admin), so client routes never collide with API paths.
import { signal } from '@preact/signals';

export type Route = { name: 'login' } | { name: 'signup' } | { name: 'home' } | { name: 'admin' } | { name: 'room'; roomId: number } | { name: 'invite'; code: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/login') return { name: 'login' };
  if (path === '/signup') return { name: 'signup' };
  if (path === '/admin') return { name: 'admin' };
  const m = /^\/c\/(\d{1,15})$/.exec(path);
  if (m) return { name: 'room', roomId: Number(m[1]) };
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

/** Where to go once logged in: the page that asked for a log-in (an invite), else the conversations. */
export const afterLogin = signal('#/');
