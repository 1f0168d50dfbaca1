import type { FastifyBaseLogger } from 'fastify';
import { Subscribers, type Bus, type BusHandler } from './bus.js';

export class MemoryBus implements Bus {
  private readonly subs = new Subscribers();

  constructor(private readonly log: FastifyBaseLogger) {}

  async publish(channel: string, payload: string): Promise<void> {
    this.subs.deliver(channel, payload, (err) => this.log.error({ err, channel }, 'bus handler failed'));
  }

  async subscribe(channel: string, handler: BusHandler) {
    this.subs.add(channel, handler);
    return async () => {
      this.subs.remove(channel, handler);
    };
  }

  onResync(): void {}
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
