// Opens the configured database: SQLite (default, WAL) or PostgreSQL when DATABASE_URL is set.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';
import { isStalePlan, type DialectName } from './dialect.js';

export interface Database {
  db: Kysely<DB>;
  dialect: DialectName;
  close(): Promise<void>;
}

const INT8_OID = 20;

export function openDatabase(opts: { databaseUrl: string | null; sqlitePath: string; poolSize?: number; connectTimeoutMs?: number; onError?: (err: Error) => void }): Database {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      Client: PreparingClient,
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

/** Named (server-side prepared) statements a PostgreSQL connection keeps at most. */
const PG_NAMED_STATEMENTS = 256;

/**
 * Kysely sends every query unnamed, so PostgreSQL parses and plans each one again (every send's
 * statements, on every send). This client names each parameterized statement by its SQL text,
 * once per connection, so PostgreSQL parses it once and reuses it, as pgbench -M prepared does.
 * Beyond the cap (queries with variable-length IN lists) statements go unnamed as before, and so
 * do statements without parameters (BEGIN, migrations' multi-statement scripts). A statement
 * made stale by a schema change is prepared anew; outside a transaction it is simply run again
 * (inside one, the transaction has failed: the Writer runs it again, see isRetryable).
 */
class PreparingClient extends pg.Client {
  private readonly names = new Map<string, string>();
  private next = 0;
  private inTransaction = false;

  override query(...args: unknown[]): never {
    const [text, values] = args;
    if (typeof text === 'string' && args.length <= 2) {
      const verb = text.trimStart().slice(0, 8).toLowerCase();
      if (verb.startsWith('begin') || verb.startsWith('start')) this.inTransaction = true;
      else if (verb.startsWith('commit') || verb.startsWith('end') || (verb.startsWith('rollback') && !/^\s*rollback\s+to\b/i.test(text))) this.inTransaction = false;
    }
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0 && args.length === 2) {
      let name = this.names.get(text);
      if (!name && this.names.size < PG_NAMED_STATEMENTS) this.names.set(text, (name = `s${this.next++}`));
      if (name) {
        const inTransaction = this.inTransaction;
        return (super.query({ name, text, values }) as Promise<unknown>).catch((err: unknown) => {
          if (!isStalePlan(err)) throw err;
          this.names.delete(text);
          if (inTransaction) throw err;
          return this.query(text, values);
        }) as never;
      }
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

/**
 * Kysely prepares every query anew; preparing cost as much as running our small statements
 * (11% of a send's CPU in the profile). Statements are kept by SQL text and reused; the
 * connection runs one query at a time, so a statement is never in use twice. Beyond the
 * cap (queries with variable-length IN lists) statements are prepared as before.
 */
function withStatementCache(sqlite: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement | RowsAsObjects>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        const prepared = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) return prepared;
        statement = prepared.reader ? new RowsAsObjects(prepared) : prepared;
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * A kept statement that reads rows: better-sqlite3 gives them as arrays (`raw`), made objects by
 * a function compiled once for the statement's columns. better-sqlite3's own objects cost twice
 * as much to build for a page of messages (51 rows of 22 columns: 385–415 against 170–190 µs as
 * arrays), and objects of one literal shape are also faster to read.
 */
class RowsAsObjects {
  readonly reader = true;
  private width!: number;
  private toObject!: (row: unknown[]) => Record<string, unknown>;
  constructor(private readonly statement: SQLite.Statement) {
    statement.raw(true);
    this.compile();
  }
  all(parameters: readonly unknown[]): unknown[] {
    const rows = this.statement.all(parameters) as unknown[][];
    if (rows.length > 0 && rows[0].length !== this.width) this.compile();
    return rows.map(this.toObject);
  }
  *iterate(parameters: readonly unknown[]): IterableIterator<unknown> {
    for (const row of this.statement.iterate(parameters) as IterableIterator<unknown[]>) {
      if (row.length !== this.width) this.compile();
      yield this.toObject(row);
    }
  }
  run(parameters: readonly unknown[]) {
    return this.statement.run(parameters);
  }
  /**
   * (Again, when SQLite prepared the statement anew after a migration changed what `*` stands
   * for: the rows' width shows it. Migrations run before the server serves, and none renames.)
   */
  private compile(): void {
    const names = this.statement.columns().map((c) => c.name);
    // The last of equal names wins, as in better-sqlite3's objects.
    const fields = [...new Map(names.map((n, i) => [n, i])).entries()].map(([n, i]) => `${JSON.stringify(n)}: r[${i}]`);
    this.toObject = new Function('r', `return { ${fields.join(', ')} };`) as (row: unknown[]) => Record<string, unknown>;
    this.width = names.length;
  }
}
