// WebSocket tickets for browsers (which cannot set headers on a WebSocket): single use,
// 30 seconds. In Redis when configured, so a ticket can be redeemed on any instance.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Principal } from '../modules/auth/auth.service.js';

export const TICKET_TTL_SEC = 30;

export interface TicketStore {
  issue(p: Principal): Promise<string>;
  /** The ticket's principal, once; null when unknown, used or expired. */
  redeem(ticket: string): Promise<Principal | null>;
}

const newTicket = () => crypto.randomBytes(24).toString('base64url');

export class MemoryTicketStore implements TicketStore {
  private readonly tickets = new Map<string, { p: Principal; expiresAt: number }>();

  async issue(p: Principal): Promise<string> {
    const now = Date.now();
    // Every ticket lives equally long, so insertion order is expiry order: drop the expired head.
    for (const [k, v] of this.tickets) {
      if (v.expiresAt > now) break;
      this.tickets.delete(k);
    }
    const ticket = newTicket();
    this.tickets.set(ticket, { p, expiresAt: now + TICKET_TTL_SEC * 1000 });
    return ticket;
  }

  async redeem(ticket: string): Promise<Principal | null> {
    const entry = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return entry && entry.expiresAt > Date.now() ? entry.p : null;
  }
}

export class RedisTicketStore implements TicketStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async issue(p: Principal): Promise<string> {
    const ticket = newTicket();
    await this.redis.set(this.prefix + ticket, JSON.stringify(p), 'EX', TICKET_TTL_SEC);
    return ticket;
  }

  async redeem(ticket: string): Promise<Principal | null> {
    const raw = await this.redis.getdel(this.prefix + ticket);
    return raw ? (JSON.parse(raw) as Principal) : null;
  }
}
