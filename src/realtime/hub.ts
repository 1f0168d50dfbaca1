// This instance's sockets: who follows which room, and each user's own sockets. Logged events
// reach them through plan()/deliver() (from the log tail, in log order); typing and presence,
// which are not logged, through the bus's room channels, subscribed while a local socket
// follows the room. Each event is serialized once and its bytes shared by every socket.
import type { FastifyBaseLogger } from 'fastify';
import type { EventRow } from '../db/schema.js';
import type { Bus } from './bus.js';
import { DEVICE_REMOVED, deviceChannel, roomChannel } from './channels.js';
import { CLOSE, type Client, type EventMeta } from './client.js';

interface Channel {
  clients: Set<Client>;
  ready: Promise<() => Promise<void>>;
}

/** Who receives one logged event: null when nobody on this instance does. */
export type Audience = Client[] | null;

const add = <K>(map: Map<K, Set<Client>>, key: K, client: Client) => {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(client);
};
const drop = <K>(map: Map<K, Set<Client>>, key: K, client: Client) => {
  const set = map.get(key);
  if (set?.delete(client) && set.size === 0) map.delete(key);
};

export class Hub {
  readonly clients = new Set<Client>();
  private readonly byRoom = new Map<number, Set<Client>>();
  private readonly byUser = new Map<number, Set<Client>>();
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly bus: Bus,
    private readonly log: FastifyBaseLogger,
    /** A socket began to follow a room because its user joined it (presence sockets meet the room). */
    private readonly onJoined: (client: Client, chatRoomId: number) => void,
  ) {}

  /** Registers a socket: from now on its user's own events and membership changes reach it. */
  add(client: Client): void {
    this.clients.add(client);
    add(this.byUser, client.userId, client);
  }

  remove(client: Client): void {
    this.clients.delete(client);
    drop(this.byUser, client.userId, client);
    for (const room of [...client.rooms]) this.unfollow(client, room);
    if (client.deviceId !== null) void this.leave(deviceChannel(client.userId, client.deviceId), client);
  }

  /**
   * Its device's to-device envelopes reach the socket (from any instance), and so does the device's
   * removal, which closes it; resolves once subscribed.
   */
  followDevice(client: Client): Promise<void> {
    if (client.deviceId === null || !this.clients.has(client)) return Promise.resolve();
    return this.join(deviceChannel(client.userId, client.deviceId), client);
  }

  /** Follows a room; resolves once its typing and presence channel is subscribed. */
  follow(client: Client, chatRoomId: number): Promise<void> {
    if (client.rooms.has(chatRoomId) || !this.clients.has(client)) return Promise.resolve();
    client.rooms.add(chatRoomId);
    add(this.byRoom, chatRoomId, client);
    return this.join(roomChannel(chatRoomId), client);
  }

  unfollow(client: Client, chatRoomId: number): void {
    if (!client.rooms.delete(chatRoomId)) return;
    drop(this.byRoom, chatRoomId, client);
    void this.leave(roomChannel(chatRoomId), client);
  }

  /**
   * Decides, in log order, who on this instance receives each event, and applies membership
   * changes as it goes (a socket follows a room from its `member_joined` on, and stops after its
   * `member_left`), so an event is never judged against a stale membership. Synchronous.
   */
  plan(rows: EventRow[]): Audience[] {
    return rows.map((row) => {
      if (row.recipient_id !== null) return this.ownSockets(row.recipient_id);
      const room = row.chat_room_id;
      switch (row.type) {
        case 'room_created':
        case 'member_joined': {
          const joined = row.type === 'room_created' ? (JSON.parse(row.payload) as { members: number[] }).members : [(JSON.parse(row.payload) as { user: number }).user];
          for (const user of joined) {
            for (const c of this.byUser.get(user) ?? []) {
              c.noteMembership(room, 'joined');
              if (!c.rooms.has(room)) {
                this.follow(c, room).catch((err) => this.log.error({ err }, 'following a new room failed'));
                this.onJoined(c, room);
              }
            }
          }
          return this.roomSockets(room);
        }
        case 'member_left':
        case 'room_deleted': {
          const gone = row.type === 'room_deleted' ? (JSON.parse(row.payload) as { members: number[] }).members : [(JSON.parse(row.payload) as { user: number }).user];
          const audience = new Set(this.byRoom.get(room) ?? []);
          for (const user of gone) for (const c of this.byUser.get(user) ?? []) audience.add(c);
          for (const c of audience) {
            if (row.type === 'room_deleted' || gone.includes(c.userId)) {
              c.noteMembership(room, 'left');
              this.unfollow(c, room);
            }
          }
          return audience.size ? [...audience] : null;
        }
        default:
          return this.roomSockets(room);
      }
    });
  }

  /** How many sockets `userId` holds open on this instance. */
  socketsOf(userId: number): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  private roomSockets(room: number): Audience {
    const set = this.byRoom.get(room);
    return set ? [...set] : null;
  }

  private ownSockets(user: number): Audience {
    const set = this.byUser.get(user);
    return set ? [...set] : null;
  }

  private async join(name: string, client: Client): Promise<void> {
    let ch = this.channels.get(name);
    if (!ch) {
      const clients = new Set<Client>();
      ch = { clients, ready: this.bus.subscribe(name, (payload) => this.relay(clients, payload)) };
      this.channels.set(name, ch);
    }
    ch.clients.add(client);
    await ch.ready;
  }

  private async leave(name: string, client: Client): Promise<void> {
    const ch = this.channels.get(name);
    if (!ch || !ch.clients.delete(client) || ch.clients.size > 0) return;
    this.channels.delete(name);
    try {
      await (await ch.ready)();
    } catch (err) {
      this.log.warn({ err, channel: name }, 'unsubscribe failed');
    }
  }

  /** Typing, presence and to-device envelopes from the bus (never in the event log: no event id), and a device's removal, which closes its sockets. */
  private relay(clients: Set<Client>, payload: string) {
    if (payload === DEVICE_REMOVED) {
      for (const client of [...clients]) client.ws.close(CLOSE.deviceGone, 'device removed');
      return;
    }
    let meta: EventMeta;
    try {
      meta = JSON.parse(payload) as EventMeta;
    } catch {
      return;
    }
    const bytes = Buffer.from(payload);
    for (const client of [...clients]) client.deliver(bytes, meta);
  }
}
