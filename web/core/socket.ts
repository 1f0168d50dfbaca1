// A self-healing WebSocket to the server: a single-use ticket for each connection (browsers
// cannot send headers), `?since=<last event id>` on every reconnect so nothing is missed or
// repeated, exponential backoff, an application-level ping that notices a dead network, a
// session check when the server closes with 4401, and a new E2EE device when it closes with 4410
// (the `device_id` the socket was opened with was removed): never a reconnection with that id.
import { signal } from '@preact/signals-core';
import { ApiError } from './errors.js';
import type { Api } from './http.js';
import type { Session } from './session.js';
import type { ServerEvent } from './types.js';

export type SocketState = 'offline' | 'connecting' | 'online' | 'stopped';

/** The part of the WebSocket API used here (the browser's, or the `ws` package's in Node). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = new (url: string) => SocketLike;

export interface EventSocketOptions {
  api: Api;
  session: Session;
  endpoint: 'general_updates' | 'user_status';
  /** Ask for missed events with ?since= (general_updates). */
  resume: boolean;
  onEvent(event: ServerEvent): void;
  /** A new connection is about to deliver (before replay): e.g. forget presence it will resend. */
  onConnecting?(): void;
  /** Events are live; `resumed`: this connection replayed what was missed (false: a fresh start, nothing replayed). */
  onReady?(resumed: boolean): void;
  /** The server could not replay what was missed: reload state over REST. */
  onResync?(): void;
  /** More query parameters for each connection (e.g. `device_id`), awaited before its ticket is asked for. */
  query?(): Promise<Record<string, string>>;
  /**
   * The server closed with 4410: the E2EE device this connection was opened with (`device_id`)
   * was removed. The socket reconnects once this has settled; by then `query` must no longer
   * name that device.
   */
  onDeviceRemoved?(deviceId: string): Promise<void>;
  WebSocket?: SocketFactory;
  pingEveryMs?: number;
  pongWithinMs?: number;
}

const OPEN = 1;
const RECENT_IDS = 2048;
/** Close codes the server uses. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_DEVICE_REMOVED = 4410;

export function socketBase(baseUrl: string): string {
  if (baseUrl) return baseUrl.replace(/^http/, 'ws');
  const loc = (globalThis as { location?: Location }).location;
  if (!loc) throw new Error('A base URL is needed outside a browser page.');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}`;
}

export class EventSocket {
  readonly state = signal<SocketState>('offline');
  /** The highest event id received; the next connection resumes after it. */
  lastId = 0;

  private ws: SocketLike | null = null;
  /** Whether the current connection asked for a replay. */
  private resuming = false;
  /** Bumped by every connection attempt: an attempt overtaken while fetching its ticket gives up. */
  private generation = 0;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly recent = new Set<number>();
  private readonly Factory: SocketFactory;
  private readonly onOnline = () => this.reconnectNow();

  constructor(private readonly opts: EventSocketOptions) {
    const Native = (globalThis as { WebSocket?: SocketFactory }).WebSocket;
    if (!opts.WebSocket && !Native) throw new Error('No WebSocket implementation: pass one in the options.');
    this.Factory = opts.WebSocket ?? Native!;
  }

  start(): void {
    if (this.state.value !== 'offline' && this.state.value !== 'stopped') return;
    this.state.value = 'offline';
    (globalThis as { addEventListener?: (t: string, f: () => void) => void }).addEventListener?.('online', this.onOnline);
    void this.connect();
  }

  stop(): void {
    this.state.value = 'stopped';
    (globalThis as { removeEventListener?: (t: string, f: () => void) => void }).removeEventListener?.('online', this.onOnline);
    this.clearTimers();
    this.drop(1000);
  }

  /** Sends a client frame; false when not connected (typing and read frames are then simply skipped). */
  send(frame: Record<string, unknown>): boolean {
    if (this.state.value !== 'online' || !this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Drops the current connection (if any) and connects again at once. */
  reconnectNow(): void {
    if (this.state.value === 'stopped') return;
    this.drop(4000);
    this.clearTimers();
    this.attempts = 0;
    this.state.value = 'offline';
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.state.value === 'stopped' || this.state.value === 'connecting') return;
    this.state.value = 'connecting';
    const generation = ++this.generation;
    let extra: Record<string, string> = {};
    let ticket: string;
    try {
      extra = (await this.opts.query?.().catch(() => ({}))) ?? {};
      if (generation !== this.generation || this.state.value !== 'connecting') return;
      ticket = (await this.opts.api.post<{ ticket: string }>('/api/auth/ws-ticket/')).ticket;
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof ApiError && err.status === 401) return this.stop(); // the session is over
      return this.retry();
    }
    if (generation !== this.generation || this.state.value !== 'connecting') return;
    const q = new URLSearchParams({ ...extra, ticket });
    this.resuming = this.opts.resume && this.lastId > 0;
    if (this.resuming) q.set('since', String(this.lastId));
    this.drop(4000);
    const ws = new this.Factory(`${socketBase(this.opts.api.baseUrl)}/ws/${this.opts.endpoint}/?${q}`);
    this.ws = ws;
    this.opts.onConnecting?.();
    ws.onmessage = (m) => {
      if (this.ws !== ws) return;
      this.alive();
      this.onMessage(String(m.data));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearTimers();
      if (this.state.value === 'stopped') return;
      this.state.value = 'offline';
      if (ev.code === CLOSE_UNAUTHORIZED) void this.afterUnauthorized();
      else if (ev.code === CLOSE_DEVICE_REMOVED && extra.device_id) void this.afterDeviceRemoved(extra.device_id);
      else this.retry();
    };
    ws.onerror = () => {};
  }

  private onMessage(data: string) {
    let event: ServerEvent;
    try {
      event = JSON.parse(data) as ServerEvent;
    } catch {
      return;
    }
    if (event.type === 'pong') return;
    if (event.type === 'ready') {
      this.state.value = 'online';
      this.attempts = 0;
      this.startPinging();
      this.opts.onReady?.(this.resuming);
      return;
    }
    if (event.type === 'resync_required') {
      this.lastId = 0;
      this.resuming = true; // the caller reloads what was missed (onResync); ready then needs no second reload
      this.recent.clear();
      this.opts.onResync?.();
      return;
    }
    if ('id' in event && typeof event.id === 'number') {
      if (this.recent.has(event.id)) return;
      this.recent.add(event.id);
      if (this.recent.size > RECENT_IDS) this.recent.delete(this.recent.values().next().value!);
      if (event.id > this.lastId) this.lastId = event.id;
    }
    this.opts.onEvent(event);
  }

  /** 4401: the access was refused or the session revoked. Reconnect only if the session still renews. */
  private async afterUnauthorized() {
    const generation = this.generation;
    try {
      const token = await this.opts.session.renew('');
      if (!token) return this.stop();
    } catch {
      // offline: try again later
    }
    // Unless another attempt started meanwhile (Retry now, the browser coming online).
    if (generation === this.generation) this.retry();
  }

  /** 4410: this socket's E2EE device was removed. Reconnect once a new device has replaced it (the hook), not before. */
  private async afterDeviceRemoved(deviceId: string) {
    const generation = this.generation;
    try {
      await this.opts.onDeviceRemoved?.(deviceId);
    } catch {
      // the replacement failed: the next connection goes without a device (query), or tries again
    }
    if (generation === this.generation) this.retry();
  }

  private retry() {
    if (this.state.value === 'stopped') return;
    this.state.value = 'offline';
    const base = Math.min(15_000, 500 * 2 ** this.attempts++);
    const delay = base / 2 + Math.random() * (base / 2);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  /** A ping every so often; no answer in time means the network is gone even if the socket has not noticed. */
  private startPinging() {
    const every = this.opts.pingEveryMs ?? 20_000;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: 'ping' })) return;
      if (this.pongTimer) return;
      this.pongTimer = setTimeout(() => {
        this.pongTimer = null;
        this.reconnectNow();
      }, this.opts.pongWithinMs ?? 10_000);
    }, every);
  }

  private alive() {
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private clearTimers() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pingTimer = this.pongTimer = this.retryTimer = null;
  }

  private drop(code: number) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code);
    } catch {
      // already closing
    }
  }
}
