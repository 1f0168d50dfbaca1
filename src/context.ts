// What services share: built once in app.ts, passed explicitly (no container, no globals).
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import type { Db } from './db/schema.js';
import type { PasswordHasher } from './lib/passwords.js';
import type { RateLimiter } from './lib/rate-limit.js';
import type { FileStore } from './lib/storage.js';
import type { TokenSigner } from './lib/tokens.js';
import type { Bus } from './realtime/bus.js';
import type { Revocations } from './modules/auth/revocations.js';
import type { Writer } from './modules/events/writer.js';

/** Who is online; the real-time gateway provides it (everyone is offline without one). */
export interface PresenceReader {
  isOnline(userId: number): boolean;
  /** How many users are online, on any instance. */
  onlineCount(): number;
}

export interface AppContext {
  config: Readonly<Config>;
  db: Db;
  bus: Bus;
  limiter: RateLimiter;
  hasher: PasswordHasher;
  tokens: TokenSigner;
  revocations: Revocations;
  store: FileStore;
  /** Every change's transaction and events (see modules/events/writer.ts). */
  writer: Writer;
  presence: PresenceReader;
  log: FastifyBaseLogger;
}

export const nowIso = () => new Date().toISOString();
