// The WebSocket gateway: opens sockets (with ?since= replay), routes events from the bus,
// handles client frames, tracks presence, keeps sockets healthy.
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import type { EventRow } from '../db/schema.js';
import { nowIso } from '../context.js';
import type { Principal } from '../modules/auth/auth.service.js';
import { CLOSE, Client, type Endpoint, type EventMeta } from './client.js';
import { parseFrame } from './frames.js';
import { serializeEvent } from '../modules/events/events.repository.js';
import { membershipsRepository } from '../modules/rooms/memberships.repository.js';
import { roomChannel } from './channels.js';
import { Hub } from './hub.js';
import { Presence } from './presence.js';
import { realtimeRepository as repo } from './realtime.repository.js';

export interface GatewayDeps {
  /** Moves the user's read position in a room (and emits the stored `read` event). */
  markRead(userId: number, chatRoomId: number, messageId: number): Promise<void>;
}

export class Gateway {
  readonly hub: Hub;
  readonly presence: Presence;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly ctx: AppContext, private readonly deps: GatewayDeps) {
    this.hub = new Hub(ctx.bus, ctx.log, (client, meta) => this.onOwnMembership(client, meta));
    this.presence = new Presence(ctx.bus, ctx.config.realtime.presenceHeartbeatMs, ctx.log, (userId, online) => {
      this.announcePresence(userId, online).catch((err) => ctx.log.error({ err, userId }, 'announcing presence failed'));
    });
  }

  async start(): Promise<void> {
    await this.presence.start();
    this.ctx.revocations.onRevoked((sessionIds) => {
      const revoked = new Set(sessionIds);
      for (const c of this.hub.clients) if (revoked.has(c.principal.sessionId)) c.ws.close(CLOSE.unauthorized, 'session revoked');
    });
    const rt = this.ctx.config.realtime;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(rt.heartbeatMs, () => this.heartbeat());
    // Hourly (the retention is at least an hour).
    every(3_600_000, () => {
      this.prune().catch((err) => this.ctx.log.warn({ err }, 'pruning the event log failed'));
    });
  }

  /** Closes every socket with 1001 (going away). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const c of this.hub.clients) c.ws.close(CLOSE.goingAway, 'server shutting down');
    await this.presence.stop();
  }

  async open(ws: WebSocket, endpoint: Endpoint, principal: Principal, since: number | null): Promise<void> {
    const rt = this.ctx.config.realtime;
    const client = new Client(ws, endpoint, principal, rt.maxBufferedBytes, rt.replayMaxEvents + 256);
    ws.on('pong', () => (client.alive = true));
    ws.on('close', () => {
      void this.hub.remove(client);
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
      // The user channel first: a room joined while the rooms are being read is then not missed.
      await this.hub.attach(client);
      const rooms = await repo.activeRoomIds(this.ctx.db, principal.userId);
      await Promise.all(rooms.map((room) => this.hub.follow(client, room)));
      // Closed while subscribing: its close handler ran before it was registered everywhere.
      if (ws.readyState !== ws.OPEN) return void (await this.hub.remove(client));
      // user_status carries presence only, which is not logged: nothing to replay.
      if (since !== null && endpoint === 'general_updates') await this.replay(client, since, rooms);
      if (endpoint === 'user_status') await this.sendPresenceSnapshot(client);
    } finally {
      client.goLive();
    }
    // Replay (if any) is done and live events flow from here.
    client.write('{"type":"ready"}');
  }

  private async replay(client: Client, since: number, rooms: number[]) {
    const max = this.ctx.config.realtime.replayMaxEvents;
    const oldest = await repo.oldestEventId(this.ctx.db);
    const rows = await repo.eventsAfter(this.ctx.db, since, rooms, max + 1, client.userId);
    if ((oldest !== null && since + 1 < oldest) || rows.length > max) {
      const reason = rows.length > max ? `more than ${max} events were missed` : 'the missed events are past the retention window';
      client.write(JSON.stringify({ type: 'resync_required', detail: `${reason}: reload state over REST, then reconnect without since.` }));
      return;
    }
    sendRows(client, rows);
  }

  /** The user's own membership changed (joined, left, room deleted): follow or stop following. */
  private onOwnMembership(client: Client, meta: EventMeta) {
    const room = meta.chat_room;
    if (room === undefined) return;
    if (meta.type === 'room_created' || (meta.type === 'member_joined' && meta.user === client.userId)) {
      if (client.rooms.has(room)) return;
      // A presence socket learns who of its new room mates is online now, and they learn that its
      // user is (each hears only changes from here on).
      const catchUp = client.endpoint === 'user_status' ? () => this.meetRoom(client, room) : () => this.backfill(client, room, meta.id ?? 0);
      void this.hub.follow(client, room).then(catchUp).catch((err) => this.ctx.log.error({ err }, 'following a new room failed'));
    } else if ((meta.type === 'member_left' && meta.user === client.userId) || meta.type === 'room_deleted') {
      void this.hub.unfollow(client, room);
    }
  }

  /** Events of a newly followed room committed while its channel was being subscribed. */
  private async backfill(client: Client, room: number, afterId: number) {
    sendRows(client, await repo.eventsAfter(this.ctx.db, afterId, [room], this.ctx.config.realtime.replayMaxEvents));
  }

  private async onFrame(client: Client, data: string | null) {
    const verdict = client.countFrame(this.ctx.config.realtime.framesPerSecond);
    if (verdict === 'flood') return client.ws.close(CLOSE.policy, 'too many frames');
    if (verdict === 'throttled') return client.write(JSON.stringify({ type: 'error', detail: 'Too many frames: slow down.' }));
    const frame = data === null ? 'Frames must be JSON text.' : parseFrame(data);
    if (typeof frame === 'string') return client.write(JSON.stringify({ type: 'error', detail: frame }));
    if (frame.type === 'ping') return client.write('{"type":"pong"}');
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
      await this.deps.markRead(client.userId, frame.chat_room, frame.message);
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
    const rooms = await repo.activeRoomIds(this.ctx.db, userId);
    await Promise.all(rooms.map((r) => this.ctx.bus.publish(roomChannel(r), payload)));
  }

  private async sendPresenceSnapshot(client: Client) {
    this.sendOnline(client, await repo.roomMates(this.ctx.db, client.userId));
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
    const n = await repo.pruneEvents(this.ctx.db, cutoff);
    if (n) this.ctx.log.info({ pruned: n }, 'pruned old events');
  }
}

/** Logged events (replay, backfill) to one socket, deduplicated against live ones by id. */
function sendRows(client: Client, rows: EventRow[]): void {
  for (const row of rows) client.sendEvent(Buffer.from(serializeEvent(row)), { id: row.id, type: row.type, chat_room: row.chat_room_id });
}
