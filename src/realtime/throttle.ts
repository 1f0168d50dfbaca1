/**
 * A token bucket per key: up to `burst` takes at once, then one more per `intervalMs`. `sweep`
 * forgets keys whose bucket is full again (they would behave the same if absent).
 */
export class Throttle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
  ) {}

  take(key: string, now = Date.now()): boolean {
    const b = this.buckets.get(key);
    const tokens = b ? Math.min(this.burst, b.tokens + (now - b.at) / this.intervalMs) : this.burst;
    if (tokens < 1) return false;
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return true;
  }

  sweep(now = Date.now()): void {
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) / this.intervalMs >= this.burst) this.buckets.delete(key);
  }
}
