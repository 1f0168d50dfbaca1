// One WebSocket: what it follows, and a send path that never grows memory without bound.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Principal } from '../modules/auth/auth.service.js';

export type Endpoint = 'general_updates' | 'user_status';

/** What an instance reads from an event once, before handing the same bytes to every socket. */
export interface EventMeta {
  id?: number;
  type: string;
  chat_room?: number;
  user?: number;
  status?: string;
  last_seen?: string | null;
}

export const CLOSE = {
  goingAway: 1001,
  policy: 1008,
  /** The socket could not keep up; reconnect with ?since=<last id> to resume. */
  slowConsumer: 4008,
  unauthorized: 4401,
  /**
   * The socket's `?device_id=` is not (or no longer) one of its user's E2EE devices: removed while
   * the socket was open, or unknown when it connected. Reconnecting with it is refused the same way.
   */
  deviceGone: 4410,
} as const;

export class Client {
  readonly rooms = new Set<number>();
  /** Ids recently sent, oldest first, so an event reaching us twice (replay and live, room and user channel) is sent once. */
  private readonly recent = new Set<number>();
  private readonly lastPresence = new Map<number, string>();
  private pending: Array<{ bytes: Buffer; meta: EventMeta }> | null = [];
  alive = true;
  private corked = false;
  private frameWindowStart = 0;
  private framesInWindow = 0;
  /** Events up to this id were seen before (`?since=`): one that reaches this instance late is not sent again. */
  seenUpTo = 0;
  /** The E2EE device it speaks for (`?device_id=`): its to-device envelopes reach it live. */
  deviceId: string | null = null;
  /** Its user's membership changes seen live while its rooms were being read (null once read). */
  private seenWhileConnecting: Map<number, 'joined' | 'left'> | null = new Map();

  constructor(
    readonly ws: WebSocket,
    readonly endpoint: Endpoint,
    readonly principal: Principal,
    private readonly maxBufferedBytes: number,
    private readonly recentCap: number,
  ) {}

  get userId() {
    return this.principal.userId;
  }

  /** Sends (or, while replay runs, holds) one event. */
  deliver(bytes: Buffer, meta: EventMeta): void {
    if (this.pending) this.pending.push({ bytes, meta });
    else this.sendEvent(bytes, meta);
  }

  noteMembership(chatRoomId: number, change: 'joined' | 'left'): void {
    this.seenWhileConnecting?.set(chatRoomId, change);
  }

  /** The rooms read at connect, less those its user left while they were being read. */
  settleRooms(read: number[]): number[] {
    const seen = this.seenWhileConnecting ?? new Map();
    this.seenWhileConnecting = null;
    return read.filter((room) => seen.get(room) !== 'left');
  }

  /** Replay is over: held live events follow, minus those the replay already sent. */
  goLive(): void {
    const held = this.pending ?? [];
    this.pending = null;
    for (const { bytes, meta } of held) this.sendEvent(bytes, meta);
  }

  /** Every event to this socket passes here (live, replayed, backfilled): what the endpoint does not carry stops here. */
  sendEvent(bytes: Buffer, meta: EventMeta): void {
    if (!this.wants(meta)) return;
    if (meta.id !== undefined) {
      if (meta.id <= this.seenUpTo || this.recent.has(meta.id)) return;
      this.remember(meta.id);
    }
    if (meta.type === 'presence' && meta.user !== undefined) {
      const state = `${meta.status}|${meta.last_seen ?? ''}`;
      if (this.lastPresence.get(meta.user) === state) return;
      this.lastPresence.set(meta.user, state);
    }
    this.write(bytes);
  }

  /** Any frame (events, pong, errors). A reader that falls too far behind is closed, not buffered. */
  write(data: Buffer | string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.maxBufferedBytes) {
      this.ws.close(CLOSE.slowConsumer, 'too slow: reconnect with ?since=<last event id>');
      return;
    }
    this.cork();
    this.ws.send(data, { binary: false });
  }

  /**
   * Frames sent in one turn of the event loop (a batch of committed events) leave in one
   * write: the TCP socket under ws is corked until the turn's other work is done.
   */
  private cork(): void {
    if (this.corked) return;
    // ws keeps its net.Socket in `_socket` (no public accessor); without it, frames go one by one.
    const socket = (this.ws as unknown as { _socket?: Socket })._socket;
    if (!socket) return;
    this.corked = true;
    socket.cork();
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  /** Counts a client frame; returns 'ok', 'throttled' (answer with an error) or 'flood' (close). */
  countFrame(perSecond: number): 'ok' | 'throttled' | 'flood' {
    const now = Date.now();
    if (now - this.frameWindowStart >= 1000) {
      this.frameWindowStart = now;
      this.framesInWindow = 0;
    }
    this.framesInWindow++;
    if (this.framesInWindow > perSecond * 3) return 'flood';
    return this.framesInWindow > perSecond ? 'throttled' : 'ok';
  }

  private wants(meta: EventMeta): boolean {
    if (this.endpoint === 'user_status') return meta.type === 'presence';
    if (meta.type === 'presence') return false;
    if (meta.type === 'typing' && meta.user === this.userId) return false;
    return true;
  }

  private remember(id: number) {
    this.recent.add(id);
    if (this.recent.size > this.recentCap) this.recent.delete(this.recent.values().next().value!);
  }
}
