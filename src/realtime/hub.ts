// This instance's sockets and the bus channels they need: a room channel is subscribed while
// at least one local socket follows the room, so an instance receives only its rooms' traffic.
// Each bus message is parsed once and its bytes shared by every socket.
import type { FastifyBaseLogger } from 'fastify';
import type { Bus } from './bus.js';
import { roomChannel, userChannel } from './channels.js';
import type { Client, EventMeta } from './client.js';

interface Channel {
  clients: Set<Client>;
  ready: Promise<() => Promise<void>>;
}

export class Hub {
  private readonly channels = new Map<string, Channel>();
  readonly clients = new Set<Client>();

  constructor(
    private readonly bus: Bus,
    private readonly log: FastifyBaseLogger,
    /** A membership change for a user's own sockets (follow or stop following a room). */
    private readonly onUserEvent: (client: Client, meta: EventMeta) => void,
  ) {}

  /** Registers a socket on its user's channel; resolves once subscribed. Rooms come next (follow). */
  async attach(client: Client): Promise<void> {
    this.clients.add(client);
    await this.join(userChannel(client.userId), client);
  }

  async remove(client: Client): Promise<void> {
    this.clients.delete(client);
    const leaving = [userChannel(client.userId), ...[...client.rooms].map(roomChannel)];
    client.rooms.clear();
    await Promise.all(leaving.map((ch) => this.leave(ch, client)));
  }

  follow(client: Client, chatRoomId: number): Promise<void> {
    client.rooms.add(chatRoomId);
    return this.join(roomChannel(chatRoomId), client);
  }

  unfollow(client: Client, chatRoomId: number): Promise<void> {
    if (!client.rooms.delete(chatRoomId)) return Promise.resolve();
    return this.leave(roomChannel(chatRoomId), client);
  }

  private async join(name: string, client: Client): Promise<void> {
    let ch = this.channels.get(name);
    if (!ch) {
      const clients = new Set<Client>();
      ch = { clients, ready: this.bus.subscribe(name, (payload) => this.dispatch(name, clients, payload)) };
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

  private dispatch(name: string, clients: Set<Client>, payload: string) {
    let meta: EventMeta;
    try {
      meta = JSON.parse(payload) as EventMeta;
    } catch {
      return;
    }
    const bytes = Buffer.from(payload);
    const ownUser = name.startsWith('user:');
    for (const client of [...clients]) {
      client.deliver(bytes, meta);
      if (ownUser) this.onUserEvent(client, meta);
    }
  }
}
