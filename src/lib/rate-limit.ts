// Fixed-window counters: in memory for one instance, in Redis (shared) when REDIS_URL is set.
import type { Redis } from 'ioredis';
import { tooManyRequests } from '../errors.js';

export interface Verdict {
  ok: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSec: number;
}

export interface RateLimiter {
  /** Counts one hit and says whether it is within `limit` per `windowSec`. */
  consume(key: string, limit: number, windowSec: number): Promise<Verdict>;
  reset(key: string): Promise<void>;
}

/** Counts one hit on `key`; 429 with Retry-After beyond `limit` per `windowSec` (a limit of 0 is off). */
export async function enforceLimit(limiter: RateLimiter, key: string, limit: number, windowSec: number): Promise<void> {
  if (limit <= 0) return;
  const verdict = await limiter.consume(key, limit, windowSec);
  if (!verdict.ok) throw tooManyRequests(verdict.retryAfterSec);
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = Date.now();

  async consume(key: string, limit: number, windowSec: number): Promise<Verdict> {
    const now = Date.now();
    this.sweep(now);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) this.windows.set(key, (w = { count: 0, resetAt: now + windowSec * 1000 }));
    w.count++;
    return { ok: w.count <= limit, retryAfterSec: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  private sweep(now: number) {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
}

export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async consume(key: string, limit: number, windowSec: number): Promise<Verdict> {
    const k = this.prefix + key;
    const res = await this.redis.multi().incr(k).pexpire(k, windowSec * 1000, 'NX').pttl(k).exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    const ttl = Number(res?.[2]?.[1] ?? windowSec * 1000);
    return { ok: count <= limit, retryAfterSec: Math.max(1, Math.ceil(ttl / 1000)) };
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}
