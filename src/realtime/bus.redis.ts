import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { Subscribers, type Bus, type BusHandler } from './bus.js';

export class RedisBus implements Bus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly subs = new Subscribers();
  private readonly resyncListeners: Array<() => void> = [];
  private connectedOnce = false;

  constructor(url: string, private readonly log: FastifyBaseLogger, private readonly prefix: string) {
    this.pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.sub = new Redis(url, { lazyConnect: true });
    this.pub.on('error', (err) => log.warn({ err: err.message }, 'redis (publish) error'));
    this.sub.on('error', (err) => log.warn({ err: err.message }, 'redis (subscribe) error'));
    this.sub.on('message', (channel: string, payload: string) => {
      this.subs.deliver(channel.slice(this.prefix.length), payload, (err) =>
        log.error({ err, channel }, 'bus handler failed'),
      );
    });
    // ioredis re-subscribes by itself after a reconnect; what was published meanwhile is lost.
    this.sub.on('ready', () => {
      if (this.connectedOnce) for (const l of this.resyncListeners) l();
      this.connectedOnce = true;
    });
  }

  async connect(): Promise<void> {
    await Promise.all([this.pub.connect(), this.sub.connect()]);
  }

  async publish(channel: string, payload: string): Promise<void> {
    await this.pub.publish(this.prefix + channel, payload);
  }

  async subscribe(channel: string, handler: BusHandler) {
    if (this.subs.add(channel, handler)) await this.sub.subscribe(this.prefix + channel);
    return async () => {
      if (!this.subs.remove(channel, handler)) return;
      // While Redis is away there is nothing to leave (a message that arrives after a reconnect finds no handler).
      if (this.sub.status !== 'ready') return;
      await this.sub.unsubscribe(this.prefix + channel).catch((err: Error) => this.log.warn({ err: err.message }, 'redis unsubscribe failed'));
    };
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  async ping(): Promise<void> {
    await this.pub.ping();
  }

  /** The command connection, for shared counters (rate limits). */
  get client(): Redis {
    return this.pub;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }
}
