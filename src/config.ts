// The only reader of process.env. Everything is parsed and checked once, at start;
// a bad value stops the server with a message naming the variable.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where `npm run build` writes the browser client: `<package root>/dist/web`, found from this
 * module's own location, which is `src/` under tsx and `dist/` once compiled (both one level down).
 */
const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/web');

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** postgres://… switches storage to PostgreSQL; otherwise SQLite at `sqlitePath`. */
  databaseUrl: string | null;
  sqlitePath: string;
  redisUrl: string | null;
  /** Prefix of every Redis key and channel, so deployments can share one Redis. */
  redisPrefix: string;
  /** null → generated once and kept in DATA_DIR (see lib/secret.ts). */
  jwtSecret: string | null;
  publicUrl: string;
  /** Host names (with port, if any) the server answers for; null: any well-formed Host. PUBLIC_URL's host is always allowed. */
  allowedHosts: string[] | null;
  /** Bearer token for /metrics; null: /metrics is off (404). */
  metricsToken: string | null;
  http: {
    /** A request (headers and body) must arrive whole within this (ms); 0 = no limit. */
    requestTimeoutMs: number;
    /** Its headers within this (ms). */
    headersTimeoutMs: number;
  };
  logLevel: string;
  /** false, true (every hop), or the proxies to trust: addresses, CIDRs, or loopback/linklocal/uniquelocal. */
  trustProxy: boolean | string;
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  bodyLimitBytes: number;
  messageMaxBytes: number;
  avatarMaxBytes: number;
  uploadMaxBytes: number;
  passwordHashConcurrency: number;
  rateLimits: {
    signupPerIpPerMin: number;
    loginPerIpPerMin: number;
    refreshPerIpPerMin: number;
    refreshPerAccountPerMin: number;
    /** Password attempts per account from one client address (an IPv6 /64 is one address) per window. */
    loginFailuresPerAccount: number;
    /** Password attempts per account per window from addresses it has not logged in from, all together. */
    loginAccountCeiling: number;
    loginFailureWindowSec: number;
    messagesPerUserPerMin: number;
    /** Messages per minute one user sends into one large room (see largeRoomMembers). */
    messagesPerUserPerMinLargeRoom: number;
    /** Rooms one user creates per hour. */
    roomsPerUserPerHour: number;
    /** People one user adds to rooms per hour (at creation or later). */
    addsPerUserPerHour: number;
    /** Joins plus leaves of groups per user per minute. */
    joinLeavePerUserPerMin: number;
    /** Attachment uploads per user per minute (attempts, whatever their outcome). */
    uploadsPerUserPerMin: number;
  };
  shutdownGraceMs: number;
  /** PostgreSQL connections per instance. */
  dbPoolSize: number;
  /** How long a request waits for a PostgreSQL connection before failing with 503 (ms). */
  dbConnectTimeoutMs: number;
  writes: {
    /** Write transactions one instance runs at once (PostgreSQL; SQLite always runs one). */
    concurrency: number;
    /** Changes that may share one transaction (group commit). */
    batchMax: number;
  };
  realtime: {
    /** How often each instance reads the event log without being told of a commit (ms). */
    logPollMs: number;
    heartbeatMs: number;
    maxBufferedBytes: number;
    replayMaxEvents: number;
    eventRetentionHours: number;
    presenceHeartbeatMs: number;
    framesPerSecond: number;
    /** Sockets one user may hold open on one instance (both paths counted together). */
    maxSocketsPerUser: number;
  };
  /** Bundle claims per minute per claiming user (0 = off): one-time prekeys cannot be drained by one account. */
  prekeyClaimsPerUserPerMin: number;
  /** Unclaimed one-time prekeys one user may hold. */
  prekeyMaxUnclaimed: number;
  /**
   * A room with more active members than this is large: no per-member `message` notifications
   * (unread counts carry them) and a default message rate per member.
   */
  largeRoomMembers: number;
  /** One-time prekeys handed out per minute per target user, by all claimers together (0 = off); beyond it, bundles go without one. */
  prekeyClaimsPerTargetPerMin: number;
  /** E2EE devices one user may register (each browser is one). */
  e2eeMaxDevicesPerUser: number;
  /** Envelopes waiting for one device until it acknowledges them; beyond, sends to it are skipped (`queue_full`). */
  toDeviceQueueMax: number;
  /** Of those, envelopes from one sending user (so one room mate cannot fill a device's queue for everyone): `sender_queue_full` beyond. */
  toDeviceQueueMaxPerSender: number;
  /** To-device send requests per minute per user (0 = off). */
  toDevicePerUserPerMin: number;
  /** Bytes of attachments one user may have stored (0 = no quota). */
  uploadQuotaBytesPerUser: number;
  /** A person's own join (or leave) of a room notifies its members at most once per this many seconds (0 = every time). */
  joinLeaveNotifyWindowSec: number;
  /** The built web client (index.html and assets/), served at / and /assets/. */
  webRoot: string;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

const PROXY_ENTRY = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/\d{1,3})?)$/;

function trustProxy(env: Env): boolean | string {
  const raw = env.TRUST_PROXY?.trim() ?? '';
  if (raw === '' || /^(true|false|yes|no|on|off)$/i.test(raw)) return bool(env, 'TRUST_PROXY', false);
  const entries = raw.split(',').map((e) => e.trim());
  if (!entries.every((e) => PROXY_ENTRY.test(e))) {
    throw new ConfigError('TRUST_PROXY must be true, false, or a comma-separated list of proxy addresses/CIDRs (or loopback, linklocal, uniquelocal)');
  }
  return entries.join(',');
}

/** A Host header value: a name or an IP (v6 in brackets), with an optional port. */
export const HOST_PATTERN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

function hostList(env: Env): string[] | null {
  const raw = env.ALLOWED_HOSTS?.trim();
  if (!raw) return null;
  const hosts = raw.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  const bad = hosts.find((h) => !HOST_PATTERN.test(h));
  if (bad !== undefined) throw new ConfigError(`ALLOWED_HOSTS must be a comma-separated list of host names (with an optional :port), got "${bad}"`);
  return hosts;
}

function metricsToken(env: Env): string | null {
  const raw = env.METRICS_TOKEN?.trim();
  if (!raw) return null;
  if (raw.length < 16) throw new ConfigError('METRICS_TOKEN must be at least 16 characters');
  return raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const dataDir = path.resolve(env.DATA_DIR?.trim() || './data');
  const jwtSecret = env.JWT_SECRET?.trim() || null;
  if (jwtSecret !== null && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters (or unset, to generate one in DATA_DIR)');
  }
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const host = env.HOST?.trim() || '127.0.0.1';
  const port = int(env, 'PORT', 8000, 0, 65535);
  const publicUrl = (url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? '').replace(/\/+$/, '');

  return Object.freeze({
    host,
    port,
    dataDir,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    sqlitePath: path.join(dataDir, 'chat.sqlite'),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: env.REDIS_PREFIX?.trim() || 'chat:',
    jwtSecret,
    publicUrl,
    allowedHosts: hostList(env),
    metricsToken: metricsToken(env),
    http: Object.freeze({
      requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 120_000, 0, 3_600_000),
      headersTimeoutMs: int(env, 'HEADERS_TIMEOUT_MS', 30_000, 100, 600_000),
    }),
    logLevel,
    trustProxy: trustProxy(env),
    accessTokenTtlSec: int(env, 'ACCESS_TOKEN_TTL', 15 * 60, 5, 24 * 3600),
    refreshTokenTtlSec: int(env, 'REFRESH_TOKEN_TTL', 30 * 24 * 3600, 60, 365 * 24 * 3600),
    bodyLimitBytes: int(env, 'BODY_LIMIT', 1024 * 1024, 1024),
    messageMaxBytes: int(env, 'MESSAGE_MAX_BYTES', 64 * 1024, 1),
    avatarMaxBytes: int(env, 'AVATAR_MAX_BYTES', 2 * 1024 * 1024, 1024),
    uploadMaxBytes: int(env, 'UPLOAD_MAX_BYTES', 25 * 1024 * 1024, 1024),
    passwordHashConcurrency: int(env, 'PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
    rateLimits: Object.freeze({
      signupPerIpPerMin: int(env, 'RATE_LIMIT_SIGNUP_PER_IP', 100, 0),
      loginPerIpPerMin: int(env, 'RATE_LIMIT_LOGIN_PER_IP', 300, 0),
      refreshPerIpPerMin: int(env, 'RATE_LIMIT_REFRESH_PER_IP', 300, 0),
      refreshPerAccountPerMin: int(env, 'RATE_LIMIT_REFRESH_PER_ACCOUNT', 60, 0),
      loginFailuresPerAccount: int(env, 'RATE_LIMIT_LOGIN_FAILURES', 10, 0),
      loginAccountCeiling: int(env, 'RATE_LIMIT_LOGIN_ACCOUNT_CEILING', 100, 0),
      loginFailureWindowSec: int(env, 'RATE_LIMIT_LOGIN_FAILURE_WINDOW', 15 * 60, 1),
      messagesPerUserPerMin: int(env, 'RATE_LIMIT_MESSAGES_PER_USER', 0, 0),
      messagesPerUserPerMinLargeRoom: int(env, 'RATE_LIMIT_MESSAGES_LARGE_ROOM', 30, 0),
      roomsPerUserPerHour: int(env, 'RATE_LIMIT_ROOMS_PER_USER', 60, 0),
      addsPerUserPerHour: int(env, 'RATE_LIMIT_ADDS_PER_USER', 300, 0),
      joinLeavePerUserPerMin: int(env, 'RATE_LIMIT_JOIN_LEAVE_PER_USER', 20, 0),
      uploadsPerUserPerMin: int(env, 'RATE_LIMIT_UPLOADS_PER_USER', 100, 0),
    }),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, 0),
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 2, 1000),
    dbConnectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    writes: Object.freeze({
      concurrency: int(env, 'WRITE_CONCURRENCY', 1, 1, 100),
      batchMax: int(env, 'WRITE_BATCH_MAX', 64, 1, 10_000),
    }),
    realtime: Object.freeze({
      logPollMs: int(env, 'EVENT_LOG_POLL_MS', 1000, 10, 60_000),
      heartbeatMs: int(env, 'WS_HEARTBEAT_MS', 30_000, 100),
      maxBufferedBytes: int(env, 'WS_MAX_BUFFERED_BYTES', 1024 * 1024, 1024),
      replayMaxEvents: int(env, 'WS_REPLAY_MAX_EVENTS', 1000, 1, 100_000),
      eventRetentionHours: int(env, 'EVENT_RETENTION_HOURS', 72, 1),
      presenceHeartbeatMs: int(env, 'PRESENCE_HEARTBEAT_MS', 10_000, 100),
      framesPerSecond: int(env, 'WS_FRAMES_PER_SECOND', 20, 1),
      maxSocketsPerUser: int(env, 'WS_MAX_SOCKETS_PER_USER', 20, 1, 10_000),
    }),
    prekeyClaimsPerUserPerMin: int(env, 'RATE_LIMIT_PREKEY_CLAIMS_PER_USER', 60, 0),
    prekeyMaxUnclaimed: int(env, 'PREKEY_MAX_UNCLAIMED', 1000, 1, 100_000),
    largeRoomMembers: int(env, 'LARGE_ROOM_MEMBERS', 100, 0, 1_000_000),
    prekeyClaimsPerTargetPerMin: int(env, 'RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET', 10, 0),
    e2eeMaxDevicesPerUser: int(env, 'E2EE_MAX_DEVICES_PER_USER', 20, 1, 1000),
    toDeviceQueueMax: int(env, 'TO_DEVICE_QUEUE_MAX', 1000, 1, 1_000_000),
    toDeviceQueueMaxPerSender: int(env, 'TO_DEVICE_QUEUE_MAX_PER_SENDER', 250, 1, 1_000_000),
    toDevicePerUserPerMin: int(env, 'RATE_LIMIT_TO_DEVICE_PER_USER', 120, 0),
    uploadQuotaBytesPerUser: int(env, 'UPLOAD_QUOTA_BYTES_PER_USER', 512 * 1024 * 1024, 0),
    joinLeaveNotifyWindowSec: int(env, 'NOTIFY_JOIN_LEAVE_WINDOW', 3600, 0),
    webRoot: path.resolve(env.WEB_ROOT?.trim() || DEFAULT_WEB_ROOT),
  });
}
