// Test harness: a real app on a real database. TEST_DB=postgres gives every app a fresh
// PostgreSQL database; otherwise SQLite in a fresh temp directory. TEST_REDIS_URL adds Redis.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { AppContext } from '../src/context.js';

export const DIALECT = process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL || null;

export interface TestEnv {
  dataDir: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A fresh data directory and (on PostgreSQL) a fresh database, shared by the apps built on it. */
export async function createTestEnv(): Promise<TestEnv> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-test-'));
  let databaseUrl: string | null = null;
  let dbName: string | null = null;
  if (DIALECT === 'postgres') {
    dbName = `chat_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
    await adminQuery(`create database ${dbName}`);
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const env: Record<string, string> = { DATA_DIR: dataDir, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  if (REDIS_URL) {
    env.REDIS_URL = REDIS_URL;
    env.REDIS_PREFIX = `test:${crypto.randomBytes(6).toString('hex')}:`;
  }
  return {
    dataDir,
    databaseUrl,
    redisUrl: REDIS_URL,
    env,
    async cleanup() {
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (dbName) await adminQuery(`drop database if exists ${dbName} with (force)`);
    },
  };
}

/** Runs `text` as the PostgreSQL administrator (creating and dropping test databases, cutting connections). */
export async function adminQuery(text: string) {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export interface TestApp {
  app: App;
  ctx: AppContext;
  env: TestEnv;
  close(): Promise<void>;
}

/** Builds an app on `env` (a new one when omitted) with extra environment settings. */
export async function createTestApp(overrides: Record<string, string> = {}, shared?: TestEnv, beforeReady?: (app: App) => void): Promise<TestApp> {
  const env = shared ?? (await createTestEnv());
  const app = await buildApp(loadConfig({ ...env.env, ...overrides }));
  beforeReady?.(app);
  await app.ready();
  return {
    app,
    ctx: (app as unknown as { ctx: AppContext }).ctx,
    env,
    async close() {
      await app.close();
      if (!shared) await env.cleanup();
    },
  };
}

let counter = 0;
export const uniq = (prefix = 'u') => `${prefix}${process.pid}x${++counter}${crypto.randomBytes(2).toString('hex')}`;
export const PASSWORD = 'correct-horse-battery-9';

export interface TestUser {
  id: number;
  username: string;
  email: string;
  access: string;
  refresh: string;
  auth: { authorization: string };
}

export async function signup(app: App, fields: Record<string, unknown> = {}): Promise<TestUser> {
  const username = uniq('user');
  const body = { username, email: `${username}@example.com`, password: PASSWORD, ...fields };
  const res = await app.inject({ method: 'POST', url: '/api/users/', payload: body });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const user = res.json();
  const tokens = await login(app, body.email as string, body.password as string);
  return { id: user.id, username: user.username, email: user.email, ...tokens };
}

export async function login(app: App, email: string, password = PASSWORD) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const { access, refresh } = res.json();
  return { access, refresh, auth: { authorization: `Bearer ${access}` } };
}

/** A 1×1 PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/** A multipart/form-data body built by hand (no client library needed). */
export function multipart(fields: Record<string, string | { filename: string; type: string; data: Buffer }>) {
  const boundary = `----test${crypto.randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${value.filename}"\r\nContent-Type: ${value.type}\r\n\r\n`));
      chunks.push(value.data, Buffer.from('\r\n'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
