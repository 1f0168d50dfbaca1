// Fixed-window counters: in memory for one instance, in Redis (shared) when REDIS_URL is set.
import net from 'node:net';
import type { Redis } from 'ioredis';
import { tooManyRequests } from '../errors.js';

export interface Verdict {
  ok: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSec: number;
}

export interface RateLimiter {
  /** Counts `cost` hits (default 1) and says whether the count is within `limit` per `windowSec`. */
  consume(key: string, limit: number, windowSec: number, cost?: number): Promise<Verdict>;
  reset(key: string): Promise<void>;
  /** Remembers `key` for `ttlSec` seconds (e.g. an address an account has logged in from). */
  remember(key: string, ttlSec: number): Promise<void>;
  /** Whether `key` is remembered (and not expired). */
  remembers(key: string): Promise<boolean>;
}

/**
 * The part of a client address that rate limits count by: an IPv4 address as it is (also when
 * written IPv4-mapped, ::ffff:a.b.c.d), an IPv6 address by its /64 network, which one host or
 * one customer usually holds whole (counting its single addresses would give it 2^64 allowances).
 */
export function addressBucket(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (net.isIPv6(ip)) return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
  return ip;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function expandIPv6(ip: string): string[] {
  let text = ip.split('%')[0].toLowerCase();
  // A trailing dotted IPv4 part stands for the last two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === null ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** Counts one hit on `key`; 429 with Retry-After beyond `limit` per `windowSec` (a limit of 0 is off). */
export async function enforceLimit(limiter: RateLimiter, key: string, limit: number, windowSec: number, cost = 1): Promise<void> {
  if (limit <= 0 || cost <= 0) return;
  const verdict = await limiter.consume(key, limit, windowSec, cost);
  if (!verdict.ok) throw tooManyRequests(verdict.retryAfterSec);
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly remembered = new Map<string, number>();
  private lastSweep = Date.now();

  async consume(key: string, limit: number, windowSec: number, cost = 1): Promise<Verdict> {
    const now = Date.now();
    this.sweep(now);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) this.windows.set(key, (w = { count: 0, resetAt: now + windowSec * 1000 }));
    w.count += cost;
    return { ok: w.count <= limit, retryAfterSec: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  async remember(key: string, ttlSec: number): Promise<void> {
    const now = Date.now();
    this.sweep(now);
    this.remembered.set(key, now + ttlSec * 1000);
  }

  async remembers(key: string): Promise<boolean> {
    return (this.remembered.get(key) ?? 0) > Date.now();
  }

  private sweep(now: number) {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    for (const [k, until] of this.remembered) if (until <= now) this.remembered.delete(k);
  }
}

export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async consume(key: string, limit: number, windowSec: number, cost = 1): Promise<Verdict> {
    const k = this.prefix + key;
    const res = await this.redis.multi().incrby(k, cost).pexpire(k, windowSec * 1000, 'NX').pttl(k).exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    const ttl = Number(res?.[2]?.[1] ?? windowSec * 1000);
    return { ok: count <= limit, retryAfterSec: Math.max(1, Math.ceil(ttl / 1000)) };
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async remember(key: string, ttlSec: number): Promise<void> {
    await this.redis.set(this.prefix + key, '1', 'PX', ttlSec * 1000);
  }

  async remembers(key: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + key)) === 1;
  }
}
