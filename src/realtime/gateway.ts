// The WebSocket gateway: opens sockets (with ?since= replay), hands them the event log through
// its tail, handles client frames, tracks presence, keeps sockets healthy.
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import { nowIso } from '../context.js';
import type { Principal } from '../modules/auth/auth.service.js';
import { eventLog } from '../modules/events/event-log.js';
import { logPosition } from '../modules/events/log-position.js';
import { devicesRepository } from '../modules/keys/devices.repository.js';
import { membershipsRepository } from '../modules/rooms/memberships.repository.js';
import { CLOSE, Client, type Endpoint } from './client.js';
import { parseFrame } from './frames.js';
import { roomChannel } from './channels.js';
import { Hub } from './hub.js';
import { LogTail } from './log-tail.js';
import { Presence } from './presence.js';
import { Throttle } from './throttle.js';
import { realtimeRepository as repo } from './realtime.repository.js';

/**
 * A user's `typing` in a room, from all their sockets together: up to TYPING_BURST frames at once
 * (typing, sending, typing again right away), then one per TYPING_INTERVAL_MS. Clients repeat it
 * every few seconds.
 */
export const TYPING_INTERVAL_MS = 1000;
export const TYPING_BURST = 3;

/** What the gateway needs of the app: everything but the services, which are built after it. */
export type GatewayContext = Pick<AppContext, 'config' | 'db' | 'bus' | 'log' | 'revocations'>;

export interface GatewayDeps {
  /** Moves the user's read position in a room (and emits the stored `read` event). */
  markRead(userId: number, chatRoomId: number, messageId: number): Promise<void>;
}

export class Gateway {
  readonly hub: Hub;
  readonly presence: Presence;
  /** Reads the event log for this instance's sockets; the writer tells it of each commit. */
  readonly tail: LogTail;
  private deps: GatewayDeps | null = null;
  private readonly typing = new Throttle(TYPING_INTERVAL_MS, TYPING_BURST);
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly ctx: GatewayContext) {
    const rt = ctx.config.realtime;
    this.hub = new Hub(ctx.bus, ctx.log, (client, room) => {
      // A presence socket learns who of its new room mates is online now, and they learn that its
      // user is (each hears only changes from here on).
      if (client.endpoint === 'user_status') this.meetRoom(client, room).catch((err) => ctx.log.error({ err }, 'meeting a new room failed'));
    });
    this.tail = new LogTail(ctx.db, logPosition(ctx.db), this.hub, ctx.bus, ctx.log, rt.logPollMs);
    this.presence = new Presence(ctx.bus, rt.presenceHeartbeatMs, ctx.log, (userId, online) => {
      this.announcePresence(userId, online).catch((err) => ctx.log.error({ err, userId }, 'announcing presence failed'));
    });
  }

  async start(deps: GatewayDeps): Promise<void> {
    this.deps = deps;
    await this.tail.start();
    await this.presence.start();
    this.ctx.revocations.onRevoked((sessionIds) => {
      const revoked = new Set(sessionIds);
      for (const c of this.hub.clients) if (revoked.has(c.principal.sessionId)) c.ws.close(CLOSE.unauthorized, 'session revoked');
    });
    // A device removed while the bus was away: its signal was lost, so its sockets are looked up.
    this.ctx.bus.onResync(() => {
      this.closeRemovedDevices().catch((err) => this.ctx.log.error({ err }, 'closing the sockets of removed devices failed'));
    });
    const rt = this.ctx.config.realtime;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(rt.heartbeatMs, () => this.heartbeat());
    every(TYPING_INTERVAL_MS * 30, () => this.typing.sweep());
    // Hourly (the retention is at least an hour).
    every(3_600_000, () => {
      this.prune().catch((err) => this.ctx.log.warn({ err }, 'pruning the event log failed'));
    });
  }

  /** Closes every socket with 1001 (going away). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.tail.stop();
    for (const c of this.hub.clients) c.ws.close(CLOSE.goingAway, 'server shutting down');
    await this.presence.stop();
  }

  async open(ws: WebSocket, endpoint: Endpoint, principal: Principal, since: number | null, deviceId: string | null = null): Promise<void> {
    const rt = this.ctx.config.realtime;
    const client = new Client(ws, endpoint, principal, rt.maxBufferedBytes, rt.replayMaxEvents + 256);
    if (endpoint === 'general_updates') client.deviceId = deviceId;
    ws.on('pong', () => (client.alive = true));
    ws.on('close', () => {
      this.hub.remove(client);
      if (endpoint === 'user_status') this.presence.disconnect(client.userId);
    });
    if (endpoint === 'user_status') this.presence.connect(client.userId);
    if (endpoint === 'general_updates') {
      ws.on('message', (data, isBinary) => {
        this.onFrame(client, isBinary ? null : data.toString()).catch((err) => {
          this.ctx.log.error({ err }, 'client frame failed');
          client.write(JSON.stringify({ type: 'error', detail: 'Internal error.' }));
        });
      });
    } else {
      ws.on('message', () => client.write(JSON.stringify({ type: 'error', detail: 'user_status takes no frames.' })));
    }

    try {
      // Registered first: the user's own events (a room joined while the rooms are read) reach it
      // from here on, and everything the log tail handed out before is replayed below.
      this.hub.add(client);
      const registeredAt = this.tail.dispatched;
      // What the socket has already: up to its cursor (which may come from an instance ahead of
      // this one), or without one, what had committed when it connected (its REST load has that).
      client.seenUpTo = since ?? (endpoint === 'general_updates' ? await this.tail.committedUpTo() : 0);
      const rooms = client.settleRooms(await membershipsRepository.activeRoomIds(this.ctx.db, principal.userId));
      await Promise.all([...rooms.map((room) => this.hub.follow(client, room)), this.followDevice(client)]);
      // Closed while subscribing (or refused its device): its close handler ran before it was registered everywhere.
      if (ws.readyState !== ws.OPEN) return void this.hub.remove(client);
      // user_status carries presence only, which is not logged: nothing to replay.
      if (endpoint === 'general_updates') await this.replay(client, since ?? registeredAt, since !== null);
      if (endpoint === 'user_status') await this.sendPresenceSnapshot(client);
    } finally {
      client.goLive();
    }
    // Replay (if any) is done and live events flow from here.
    client.write('{"type":"ready"}');
  }

  /**
   * Subscribes the socket to its device's channel, then checks that the device is one of its
   * user's: a device removed before then is refused here (4410), one removed after is closed by
   * its removal's signal, which the socket now receives.
   */
  private async followDevice(client: Client): Promise<void> {
    if (client.deviceId === null) return;
    await this.hub.followDevice(client);
    if (!(await devicesRepository.find(this.ctx.db, client.userId, client.deviceId))) client.ws.close(CLOSE.deviceGone, 'no such device');
  }

  /** Closes (4410) this instance's sockets that speak for a device no longer registered. */
  private async closeRemovedDevices(): Promise<void> {
    const speaking = [...this.hub.clients].filter((c) => c.deviceId !== null);
    if (speaking.length === 0) return;
    const registered = new Set((await devicesRepository.idsOfUsers(this.ctx.db, [...new Set(speaking.map((c) => c.userId))])).map((d) => `${d.user_id}:${d.device_id}`));
    for (const c of speaking) if (!registered.has(`${c.userId}:${c.deviceId}`)) c.ws.close(CLOSE.deviceGone, 'device removed');
  }

  /**
   * The logged events after `after` of the client's rooms and its own, up to what the tail has
   * handed out or, on resume, what has committed (everything after reaches the socket live).
   * Without `since` this covers only the moments the socket spent following its rooms.
   */
  private async replay(client: Client, after: number, resumed: boolean) {
    const max = this.ctx.config.realtime.replayMaxEvents;
    // Up to what has committed, even if the tail has not read that far yet: what it hands out
    // later and the replay sent already is dropped by id.
    const upto = resumed ? Math.max(this.tail.dispatched, await this.tail.committedUpTo()) : this.tail.dispatched;
    if (after >= upto) return;
    const oldest = resumed ? await eventLog.oldestId(this.ctx.db) : null;
    const roomIds = [...client.rooms];
    const [own, lost] = await Promise.all([
      eventLog.forUser(this.ctx.db, { after, upto, roomIds, recipientId: client.userId, limit: max + 1 }),
      // On resume, also the rooms the user lost meanwhile (left on another device, removed, deleted).
      resumed ? eventLog.departures(this.ctx.db, { after, upto, roomIds, userId: client.userId }) : [],
    ]);
    const rows = lost?.length ? [...own, ...lost].sort((a, b) => a.id - b.id) : own;
    if ((oldest !== null && after + 1 < oldest) || rows.length > max || lost === null) {
      const reason = rows.length > max || lost === null ? `more than ${max} events were missed` : 'the missed events are past the retention window';
      client.write(JSON.stringify({ type: 'resync_required', detail: `${reason}: reload state over REST, then reconnect without since.` }));
      // The reload covers what has committed by now: only what comes after goes out live.
      client.seenUpTo = Math.max(client.seenUpTo, await this.tail.committedUpTo());
      return;
    }
    for (const { row, wire } of await eventLog.wire(this.ctx.db, rows)) {
      client.sendEvent(Buffer.from(wire), { id: row.id, type: row.type, chat_room: row.chat_room_id });
    }
  }

  private async onFrame(client: Client, data: string | null) {
    const verdict = client.countFrame(this.ctx.config.realtime.framesPerSecond);
    if (verdict === 'flood') return client.ws.close(CLOSE.policy, 'too many frames');
    if (verdict === 'throttled') return client.write(JSON.stringify({ type: 'error', detail: 'Too many frames: slow down.' }));
    const frame = data === null ? 'Frames must be JSON text.' : parseFrame(data);
    if (typeof frame === 'string') return client.write(JSON.stringify({ type: 'error', detail: frame }));
    if (frame.type === 'ping') return client.write('{"type":"pong"}');
    // Before any database read: a user's sockets together relay one typing frame per room per interval.
    if (frame.type === 'typing' && !this.typing.take(`${client.userId}:${frame.chat_room}`)) return;
    if (!client.rooms.has(frame.chat_room) || (await membershipsRepository.find(this.ctx.db, frame.chat_room, client.userId))?.is_active !== 1) {
      return client.write(JSON.stringify({ type: 'error', detail: 'No such chat room.', chat_room: frame.chat_room }));
    }
    if (frame.type === 'typing') {
      // Typing is relayed, never stored: it has no event id.
      const payload = JSON.stringify({ type: 'typing', chat_room: frame.chat_room, user: client.userId, created_at: nowIso() });
      await this.ctx.bus.publish(roomChannel(frame.chat_room), payload);
      return;
    }
    try {
      await this.deps!.markRead(client.userId, frame.chat_room, frame.message);
    } catch (err) {
      const e = err as { statusCode?: number; message?: string };
      if (!e.statusCode || e.statusCode >= 500) throw err;
      client.write(JSON.stringify({ type: 'error', detail: e.message, chat_room: frame.chat_room }));
    }
  }

  private heartbeat() {
    for (const c of this.hub.clients) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  private async announcePresence(userId: number, online: boolean) {
    const lastSeen = online ? null : nowIso();
    if (lastSeen) await repo.setLastSeen(this.ctx.db, userId, lastSeen);
    const payload = JSON.stringify({ type: 'presence', user: userId, status: online ? 'online' : 'offline', last_seen: lastSeen });
    const rooms = await membershipsRepository.activeRoomIds(this.ctx.db, userId);
    await Promise.all(rooms.map((r) => this.ctx.bus.publish(roomChannel(r), payload)));
  }

  private async sendPresenceSnapshot(client: Client) {
    this.sendOnline(client, await membershipsRepository.roomMates(this.ctx.db, client.userId));
  }

  private async meetRoom(client: Client, room: number) {
    this.sendOnline(client, (await repo.memberIds(this.ctx.db, room)).filter((u) => u !== client.userId));
    const payload = JSON.stringify({ type: 'presence', user: client.userId, status: 'online', last_seen: null });
    await this.ctx.bus.publish(roomChannel(room), payload);
  }

  /** `presence` online for those of `users` who are. */
  private sendOnline(client: Client, users: number[]) {
    for (const user of users) {
      if (!this.presence.isOnline(user)) continue;
      const wire = JSON.stringify({ type: 'presence', user, status: 'online', last_seen: null });
      client.sendEvent(Buffer.from(wire), { type: 'presence', user, status: 'online', last_seen: null });
    }
  }

  private async prune() {
    const cutoff = new Date(Date.now() - this.ctx.config.realtime.eventRetentionHours * 3_600_000).toISOString();
    const n = await eventLog.prune(this.ctx.db, cutoff);
    if (n) this.ctx.log.info({ pruned: n }, 'pruned old events');
  }
}
