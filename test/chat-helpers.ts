// Helpers for the conversation tests: an app without sign-up/login limits (tests sign up many
// users from one address, and with Redis the counters are shared), and short request helpers.
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { createTestApp, signup, type TestApp, type TestEnv, type TestUser } from './helpers.js';
import { connect, listen, type Sock } from './ws-helpers.js';

export const NO_LIMITS = { RATE_LIMIT_SIGNUP_PER_IP: '0', RATE_LIMIT_LOGIN_PER_IP: '0' };

/** A test app on a fresh database (or on `shared`, which the caller then cleans up). */
export function chatApp(overrides: Record<string, string> = {}, shared?: TestEnv): Promise<TestApp> {
  return createTestApp({ ...NO_LIMITS, ...overrides }, shared);
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request as `user` (or anonymous with null). */
export function call(t: TestApp, user: TestUser | null, method: Method, url: string, payload?: unknown): Promise<LightMyRequestResponse> {
  const opts: InjectOptions = { method, url, headers: user ? user.auth : {} };
  if (payload !== undefined) opts.payload = payload as InjectOptions['payload'];
  return t.app.inject(opts);
}

/** The JSON body after checking the status. */
export async function ok<T = any>(res: Promise<LightMyRequestResponse> | LightMyRequestResponse, status = 200): Promise<T> {
  const r = await res;
  assert.equal(r.statusCode, status, `expected ${status}, got ${r.statusCode}: ${r.body}`);
  return (r.body ? r.json() : null) as T;
}

export async function users(t: TestApp, n: number): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i++) out.push(await signup(t.app));
  return out;
}

export function createRoom(t: TestApp, owner: TestUser, body: Record<string, unknown>, status = 201) {
  return ok(call(t, owner, 'POST', '/api/chat_rooms/', body), status);
}

/** A group: public unless `isPublic` is false; `members` are added by the owner. */
export function group(t: TestApp, owner: TestUser, members: TestUser[] = [], isPublic = true) {
  return createRoom(t, owner, { room_type: 'group', name: 'g', is_public: isPublic, members: members.map((m) => m.id) });
}

export function privateRoom(t: TestApp, a: TestUser, b: TestUser) {
  return createRoom(t, a, { room_type: 'private', members: [b.id] });
}

export function send(t: TestApp, user: TestUser, chatRoom: number, content: string, extra: Record<string, unknown> = {}, status = 201) {
  return ok(call(t, user, 'POST', '/api/messages/', { chat_room: chatRoom, content, ...extra }), status);
}

/** The user's membership of a room, from their conversation list. */
export async function membershipOf(t: TestApp, user: TestUser, chatRoom: number) {
  const list = await ok<any[]>(call(t, user, 'GET', '/api/user_chats/'));
  return list.find((m) => m.chat_room === chatRoom);
}

/** Resolves with the first payload on `channel` matching `match` (subscribe before acting). */
const listening = new WeakMap<TestApp, Promise<string>>();

/** A live `general_updates` socket of `user` (with `query`, e.g. since) on `t` (listening on a free port the first time). */
export async function socketOf(t: TestApp, user: TestUser, query: Record<string, string | number> = {}): Promise<Sock> {
  let base = listening.get(t);
  if (!base) listening.set(t, (base = listen(t)));
  return connect(await base, '/ws/general_updates/', { token: user.access, query });
}

/** The first event `user`'s socket receives, from now on, that matches `match`. */
export async function nextEvent(t: TestApp, user: TestUser, match: (e: any) => boolean = () => true) {
  const sock = await socketOf(t, user);
  return { seen: sock.next(match).finally(() => sock.close()) as Promise<any> };
}

/** The path and query of an absolute link (for following `next`/`previous`). */
export const pathOf = (link: string) => {
  const u = new URL(link);
  return u.pathname + u.search;
};
