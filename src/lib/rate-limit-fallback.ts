// Rate limits shared through Redis keep working while Redis cannot answer: each instance then
// counts on its own (a limit holds per instance instead of per deployment), and the requests
// they guard go on being served instead of failing with Redis.
import type { FastifyBaseLogger } from 'fastify';
import type { RateLimiter, Verdict } from './rate-limit.js';

export class FallbackRateLimiter implements RateLimiter {
  private warned = false;

  constructor(
    private readonly shared: RateLimiter,
    private readonly local: RateLimiter,
    /** Whether the shared store is connected now (asked before each call: no waiting on a dead connection). */
    private readonly sharedUp: () => boolean,
    private readonly log: FastifyBaseLogger,
  ) {}

  consume(key: string, limit: number, windowSec: number, cost?: number): Promise<Verdict> {
    return this.either((l) => l.consume(key, limit, windowSec, cost));
  }

  reset(key: string): Promise<void> {
    return this.either((l) => l.reset(key));
  }

  remember(key: string, ttlSec: number): Promise<void> {
    return this.either((l) => l.remember(key, ttlSec));
  }

  remembers(key: string): Promise<boolean> {
    return this.either((l) => l.remembers(key));
  }

  private async either<T>(call: (limiter: RateLimiter) => Promise<T>): Promise<T> {
    if (this.sharedUp()) {
      try {
        const result = await call(this.shared);
        this.warned = false;
        return result;
      } catch (err) {
        this.warnOnce(err);
      }
    } else {
      this.warnOnce(null);
    }
    return call(this.local);
  }

  private warnOnce(err: unknown) {
    if (this.warned) return;
    this.warned = true;
    this.log.warn({ err: err instanceof Error ? err.message : undefined }, 'shared rate limits unavailable: counting per instance until Redis is back');
  }
}
