// Who is logged in, and the access token every request carries.
//
// Browser pages use the cookie mode: the refresh token lives in an HttpOnly cookie that no
// script can read (POST /api/auth/session/…); the tabs of one browser share that session: one
// refreshes at a time (a Web Lock), and hands the new access token to the others over a
// BroadcastChannel, so two tabs never race each other into the server's re-use detection.
// Other programs (the SDK in Node, bots) use the token mode: the JSON token routes, with the
// refresh token held in memory.
import { signal } from '@preact/signals-core';
import { ApiError } from './errors.js';
import type { Api, TokenSource } from './http.js';
import { tabChannel, withLock, type TabChannel } from './tabs.js';
import type { User } from './types.js';

export type SessionStatus = 'unknown' | 'anonymous' | 'authenticated';
/** Why a session ended: the user logged out (here or in another tab), or it could not be renewed. */
export type EndReason = 'logout' | 'expired';

export interface SessionOptions {
  mode: 'cookie' | 'token';
  /** Channel and lock names are derived from it (several servers on one origin stay apart). */
  name?: string;
  now?: () => number;
}

export interface SignupInput {
  username: string;
  email: string;
  password: string;
  first_name?: string;
  last_name?: string;
}

type TabMessage = { type: 'token'; access: string; expiresAt: number; user: User } | { type: 'logout' };

interface SessionAnswer {
  access: string;
  expires_in: number;
  user: User;
}

const CSRF = { 'x-requested-with': 'XMLHttpRequest' };
/** Renew when less than this share of the token's life is left. */
const RENEW_AT = 0.25;

/** The claims of a JWT, unverified (the server verifies; the client only reads its own token's expiry and user). */
export function jwtClaims(token: string): { sub?: string; exp?: number } {
  const part = token.split('.')[1] ?? '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((part.length + 3) % 4);
  try {
    return JSON.parse(atob(b64)) as { sub?: string; exp?: number };
  } catch {
    return {};
  }
}

export class Session implements TokenSource {
  readonly user = signal<User | null>(null);
  readonly status = signal<SessionStatus>('unknown');

  private access: string | null = null;
  private expiresAt = 0;
  private lifetimeMs = 0;
  private refreshToken: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly tabs: TabChannel<TabMessage> | null;
  private readonly lockName: string;
  private readonly now: () => number;
  private readonly endListeners = new Set<(reason: EndReason) => void>();
  private readonly unsubscribe: () => void = () => {};

  constructor(private readonly api: Api, private readonly opts: SessionOptions) {
    this.now = opts.now ?? Date.now;
    const name = opts.name ?? 'chat';
    this.lockName = `${name}:session`;
    this.tabs = opts.mode === 'cookie' ? tabChannel<TabMessage>(`${name}:session`) : null;
    if (this.tabs) this.unsubscribe = this.tabs.subscribe((m) => this.onTabMessage(m));
    api.useTokens(this);
  }

  /** Called when the session ends (not when it was never open). */
  onEnded(fn: (reason: EndReason) => void): () => void {
    this.endListeners.add(fn);
    return () => this.endListeners.delete(fn);
  }

  /** Picks up an existing session (the cookie, in a browser); the user, or null. */
  async restore(): Promise<User | null> {
    if (this.opts.mode === 'token' && !this.refreshToken) {
      this.status.value = 'anonymous';
      return null;
    }
    try {
      await this.renewShared(null);
    } catch (err) {
      if (this.status.value === 'unknown') this.status.value = 'anonymous';
      throw err;
    }
    if (this.status.value === 'unknown') this.status.value = 'anonymous';
    return this.user.value;
  }

  async login(email: string, password: string): Promise<User> {
    if (this.opts.mode === 'cookie') {
      const answer = await this.api.raw<SessionAnswer>('POST', '/api/auth/session/', { body: { email, password }, headers: CSRF });
      this.adopt(answer.access, this.now() + answer.expires_in * 1000, answer.user);
      this.tabs?.post({ type: 'token', access: answer.access, expiresAt: this.expiresAt, user: answer.user });
    } else {
      const pair = await this.api.raw<{ access: string; refresh: string }>('POST', '/api/auth/token/', { body: { email, password } });
      await this.adoptPair(pair);
    }
    return this.user.value!;
  }

  async signup(input: SignupInput): Promise<User> {
    await this.api.raw('POST', '/api/users/', { body: input });
    return this.login(input.email, input.password);
  }

  /**
   * Ends the session on the server, then here and in every tab. When the server cannot be
   * reached the session stays open (its cookie would log the browser back in) and this throws.
   */
  async logout(): Promise<void> {
    try {
      if (this.opts.mode === 'cookie') await this.api.raw('POST', '/api/auth/session/logout/', { headers: CSRF });
      else if (this.access) await this.api.raw('POST', '/api/auth/logout/', { token: this.access });
    } catch (err) {
      // 401: it had ended already. Anything but a transient failure: the server will not keep it either.
      if (!(err instanceof ApiError) || err.isTransient) throw err;
    }
    this.end('logout');
    this.tabs?.post({ type: 'logout' });
  }

  /** TokenSource: the current access token, renewed first when it is about to expire. */
  async token(): Promise<string | null> {
    if (!this.access) return null;
    if (this.expiresAt - this.now() > 5_000) return this.access;
    return this.renewShared(this.access);
  }

  /** TokenSource: `refused` got a 401; a fresh token or null (the session is over). */
  renew(refused: string): Promise<string | null> {
    return this.renewShared(refused);
  }

  /** Stops timers and the tab channel (the session itself stays open on the server). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unsubscribe();
    this.tabs?.close();
  }

  /**
   * One refresh for all tabs: under the lock, a token another tab fetched while this one
   * waited is used as it is. `stale` is the token the caller found wanting (null: any).
   */
  private renewShared(stale: string | null): Promise<string | null> {
    return withLock(this.lockName, async () => {
      if (this.access && this.access !== stale && this.fresh()) return this.access;
      if (this.opts.mode === 'token' && !this.refreshToken) return null;
      try {
        if (this.opts.mode === 'cookie') {
          const answer = await this.api.raw<SessionAnswer>('POST', '/api/auth/session/refresh/', { headers: CSRF });
          this.adopt(answer.access, this.now() + answer.expires_in * 1000, answer.user);
          this.tabs?.post({ type: 'token', access: answer.access, expiresAt: this.expiresAt, user: answer.user });
        } else {
          const pair = await this.api.raw<{ access: string; refresh: string }>('POST', '/api/auth/token/refresh/', { body: { refresh: this.refreshToken } });
          await this.adoptPair(pair);
        }
        return this.access;
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 400)) {
          if (this.status.value === 'authenticated') this.end('expired');
          else this.status.value = 'anonymous';
          return null;
        }
        throw err;
      }
    });
  }

  private fresh(): boolean {
    return this.expiresAt - this.now() > this.lifetimeMs * RENEW_AT;
  }

  private async adoptPair(pair: { access: string; refresh: string }) {
    const claims = jwtClaims(pair.access);
    const expiresAt = (claims.exp ?? 0) * 1000;
    this.refreshToken = pair.refresh;
    const id = Number(claims.sub);
    const user = this.user.value?.id === id ? this.user.value : await this.api.raw<User>('GET', `/api/users/${id}/`, { token: pair.access });
    this.adopt(pair.access, expiresAt, user);
  }

  private adopt(access: string, expiresAt: number, user: User) {
    // Another user's session now (logged in as someone else in another tab): this one ended first,
    // so nothing of the previous user (their queue, their lists) carries over.
    if (this.status.value === 'authenticated' && this.user.value && this.user.value.id !== user.id) this.end('expired');
    this.access = access;
    this.lifetimeMs = Math.max(1_000, expiresAt - this.now());
    this.expiresAt = expiresAt;
    if (this.user.value?.id !== user.id || this.user.value.username !== user.username) this.user.value = user;
    this.status.value = 'authenticated';
    this.schedule();
  }

  /** Renews ahead of expiry, so a request rarely meets a 401 (each tab schedules; the lock lets one through). */
  private schedule() {
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(1_000, this.expiresAt - this.now() - this.lifetimeMs * RENEW_AT);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.renewShared(this.access).catch(() => this.schedule());
    }, delay);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private onTabMessage(m: TabMessage) {
    if (m.type === 'token') {
      if (m.expiresAt > this.expiresAt) this.adopt(m.access, m.expiresAt, m.user);
    } else if (m.type === 'logout') {
      if (this.status.value === 'authenticated') this.end('logout');
    }
  }

  private end(reason: EndReason) {
    const wasOpen = this.status.value === 'authenticated';
    this.access = null;
    this.refreshToken = null;
    this.expiresAt = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.status.value = 'anonymous';
    this.user.value = null;
    if (wasOpen) for (const fn of this.endListeners) fn(reason);
  }
}
