// Who is online, across instances. Each instance counts its own user_status sockets and tells
// the others over the bus ("on"/"off", plus a heartbeat with its whole list). An instance whose
// heartbeats stop is dropped after three periods, and its users go offline. No per-request
// lookups: every instance keeps the whole view in memory.
import crypto from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { PresenceReader } from '../context.js';
import type { Bus } from './bus.js';

const CHANNEL = 'presence';

type Control =
  | { op: 'on' | 'off'; inst: string; user: number }
  | { op: 'beat'; inst: string; users: number[] }
  | { op: 'sync'; inst: string };

/** Called once per change of a user's overall state, on one instance. */
export type PresenceListener = (userId: number, online: boolean) => void;

export class Presence implements PresenceReader {
  readonly instanceId = crypto.randomBytes(8).toString('hex');
  private readonly local = new Map<number, number>();
  private readonly remote = new Map<string, { users: Set<number>; lastBeat: number }>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly heartbeatMs: number,
    private readonly log: FastifyBaseLogger,
    private readonly listener: PresenceListener,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(CHANNEL, (payload) => this.receive(JSON.parse(payload) as Control));
    this.timer = setInterval(() => this.tick(), this.heartbeatMs);
    this.timer.unref();
    await this.send({ op: 'sync', inst: this.instanceId });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.unsubscribe?.();
  }

  isOnline(userId: number): boolean {
    if (this.local.has(userId)) return true;
    for (const r of this.remote.values()) if (r.users.has(userId)) return true;
    return false;
  }

  onlineCount(): number {
    const users = new Set(this.local.keys());
    for (const r of this.remote.values()) for (const u of r.users) users.add(u);
    return users.size;
  }

  /** A user_status socket of `userId` opened on this instance. */
  connect(userId: number): void {
    const n = this.local.get(userId) ?? 0;
    const wasOnline = this.isOnline(userId);
    this.local.set(userId, n + 1);
    if (n === 0) void this.send({ op: 'on', inst: this.instanceId, user: userId });
    if (!wasOnline) this.listener(userId, true);
  }

  /** One of its sockets closed (or stopped answering heartbeats). */
  disconnect(userId: number): void {
    const n = this.local.get(userId) ?? 0;
    if (n > 1) return void this.local.set(userId, n - 1);
    if (n === 0) return;
    this.local.delete(userId);
    void this.send({ op: 'off', inst: this.instanceId, user: userId });
    if (!this.isOnline(userId)) this.listener(userId, false);
  }

  private receive(msg: Control) {
    if (msg.inst === this.instanceId) return;
    const entry = this.remote.get(msg.inst) ?? { users: new Set<number>(), lastBeat: Date.now() };
    this.remote.set(msg.inst, entry);
    entry.lastBeat = Date.now();
    if (msg.op === 'on') entry.users.add(msg.user);
    else if (msg.op === 'off') entry.users.delete(msg.user);
    else if (msg.op === 'beat') entry.users = new Set(msg.users);
    else if (msg.op === 'sync') void this.beat();
  }

  private tick() {
    void this.beat();
    const cutoff = Date.now() - 3 * this.heartbeatMs;
    const dead = [...this.remote].filter(([, r]) => r.lastBeat < cutoff);
    if (dead.length === 0) return;
    for (const [inst] of dead) this.remote.delete(inst);
    // Every survivor sees the death; the one with the smallest id announces it.
    const announcer = [this.instanceId, ...this.remote.keys()].sort()[0] === this.instanceId;
    for (const [inst, r] of dead) {
      this.log.warn({ instance: inst, users: r.users.size }, 'instance stopped answering; its users go offline');
      if (announcer) for (const user of r.users) if (!this.isOnline(user)) this.listener(user, false);
    }
  }

  private beat() {
    return this.send({ op: 'beat', inst: this.instanceId, users: [...this.local.keys()] });
  }

  private async send(msg: Control) {
    try {
      await this.bus.publish(CHANNEL, JSON.stringify(msg));
    } catch (err) {
      this.log.warn({ err }, 'publishing presence failed');
    }
  }
}
