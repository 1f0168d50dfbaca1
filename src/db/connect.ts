// Opens the configured database: SQLite (default, WAL) or PostgreSQL when DATABASE_URL is set.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';
import type { DialectName } from './dialect.js';

export interface Database {
  db: Kysely<DB>;
  dialect: DialectName;
  close(): Promise<void>;
}

const INT8_OID = 20;

export function openDatabase(opts: { databaseUrl: string | null; sqlitePath: string; poolSize?: number; connectTimeoutMs?: number; onError?: (err: Error) => void }): Database {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      // A database that does not answer fails requests (503) instead of holding them.
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      // count(*) and bigserial come back as int8; our ids and counts fit in a JS number.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection that drops (database restart, terminated backend) must not crash the
    // process: the pool replaces it on the next checkout.
    pool.on('error', (err) => opts.onError?.(err));
    // The pool listens to a connection only while it is idle: one that breaks while checked out
    // (PostgreSQL restarting mid-transaction) would raise an error nobody handles and end the
    // process. Its query fails all the same (503), and the pool discards it.
    pool.on('connect', (client) => client.on('error', (err) => opts.onError?.(err)));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  fs.mkdirSync(path.dirname(opts.sqlitePath), { recursive: true });
  const sqlite = new SQLite(opts.sqlitePath);
  sqlite.pragma('journal_mode = WAL');
  // In WAL mode NORMAL keeps every committed transaction across a process crash (kill -9);
  // only an OS crash or power loss can roll back the last few.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing cost as much as running our small statements
 * (11% of a send's CPU in the profile). Statements are kept by SQL text and reused; the
 * connection runs one query at a time, so a statement is never in use twice. Beyond the
 * cap (queries with variable-length IN lists) statements are prepared as before.
 */
function withStatementCache(sqlite: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (cache.size < STATEMENT_CACHE_SIZE) cache.set(sql, statement);
      }
      return statement;
    },
  };
}
