// Hash routes (#/login, #/signup, #/c/<room id>), so client routes never collide with API paths.
import { signal } from '@preact/signals';

export type Route = { name: 'login' } | { name: 'signup' } | { name: 'home' } | { name: 'room'; roomId: number };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/login') return { name: 'login' };
  if (path === '/signup') return { name: 'signup' };
  const m = /^\/c\/(\d{1,15})$/.exec(path);
  if (m) return { name: 'room', roomId: Number(m[1]) };
  return { name: 'home' };
}

export const route = signal<Route>(parseRoute(location.hash));
addEventListener('hashchange', () => (route.value = parseRoute(location.hash)));

export function navigate(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
  else route.value = parseRoute(hash);
}

export const roomHref = (roomId: number) => `#/c/${roomId}`;
