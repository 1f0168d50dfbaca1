// Which sessions were revoked recently. Access tokens live `accessTtl`, so a session revoked
// longer ago than that has no live access token left: the list only needs that window. It is
// loaded from the database at start and after a bus outage, and kept current by the bus, so
// authenticating a request never reads the database.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/schema.js';
import type { Bus } from '../../realtime/bus.js';
import { sessionsRepository } from './sessions.repository.js';

const CHANNEL = 'auth:revoked';
const CLOCK_SKEW_MS = 60_000;

export class Revocations {
  private readonly revoked = new Map<number, number>(); // session id → when it can be forgotten
  private readonly listeners: Array<(sessionIds: number[]) => void> = [];
  private sweeper: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly accessTtlMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(CHANNEL, (payload) => this.apply(JSON.parse(payload) as number[]));
    this.bus.onResync(() => {
      this.reload().catch((err) => this.log.error({ err }, 'reloading revoked sessions failed'));
    });
    await this.reload();
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.unsubscribe?.();
  }

  isRevoked(sessionId: number): boolean {
    return this.revoked.has(sessionId);
  }

  /** Called after the revocation is committed: takes effect here at once, elsewhere via the bus. */
  async publish(sessionIds: number[]): Promise<void> {
    if (sessionIds.length === 0) return;
    this.apply(sessionIds);
    try {
      await this.bus.publish(CHANNEL, JSON.stringify(sessionIds));
    } catch (err) {
      // Committed already: the other instances reload the list from the database when the bus is back.
      this.log.warn({ err: (err as Error).message }, 'revocation not announced: the bus is down');
    }
  }

  onRevoked(listener: (sessionIds: number[]) => void): void {
    this.listeners.push(listener);
  }

  private apply(sessionIds: number[]) {
    const forgetAt = Date.now() + this.accessTtlMs + CLOCK_SKEW_MS;
    const fresh = sessionIds.filter((id) => !this.revoked.has(id));
    for (const id of sessionIds) this.revoked.set(id, forgetAt);
    if (fresh.length) for (const l of this.listeners) l(fresh);
  }

  private async reload() {
    const since = new Date(Date.now() - this.accessTtlMs - CLOCK_SKEW_MS).toISOString();
    const rows = await sessionsRepository.revokedSince(this.db, since);
    this.apply(rows.map((r) => r.id));
  }

  private sweep() {
    const now = Date.now();
    for (const [id, forgetAt] of this.revoked) if (forgetAt <= now) this.revoked.delete(id);
  }
}
