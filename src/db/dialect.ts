// Every difference between SQLite and PostgreSQL lives here.
import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';
import { sql } from 'kysely';
import { PostgresAdapter } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

/** An auto-increment integer primary key named `id`. */
export function withId<T extends string>(table: CreateTableBuilder<T, never>, dialect: DialectName) {
  return dialect === 'postgres'
    ? table.addColumn('id', 'serial', (c: ColumnDefinitionBuilder) => c.primaryKey())
    : table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement());
}

/** Unique-constraint violation from either driver. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export async function ping(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}

const EVENT_LOG_LOCK = 727_274_002;

/**
 * Serializes the transactions that write the event log (PostgreSQL: a transaction-scoped
 * advisory lock; SQLite already runs one write transaction at a time), so that event ids,
 * and the ids of rows written under the lock, are in commit order. Take it before writing.
 */
export async function lockEventLog(trx: Kysely<any>): Promise<void> {
  if (isPostgres(trx)) {
    await sql`select pg_advisory_xact_lock(${EVENT_LOG_LOCK})`.execute(trx);
  }
}

export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

interface Lockable<QB> {
  forUpdate(): QB;
  forShare(): QB;
  skipLocked(): QB;
}

/**
 * "Take one row nobody else is taking" (one-time prekey claims): FOR UPDATE SKIP LOCKED on
 * PostgreSQL, so concurrent claimers each lock a different row and none waits. SQLite has no
 * row locks and needs none: one write transaction runs at a time and a statement is atomic.
 */
export function skipLocked<QB extends Lockable<QB>>(db: Kysely<any>, qb: QB): QB {
  return isPostgres(db) ? qb.forUpdate().skipLocked() : qb;
}

/** Locks the selected rows until the transaction ends (PostgreSQL); SQLite's single writer already serializes. */
export function forUpdate<QB extends Lockable<QB>>(db: Kysely<any>, qb: QB): QB {
  return isPostgres(db) ? qb.forUpdate() : qb;
}

/** Locks the selected rows against FOR UPDATE until the transaction ends, letting other readers share them (PostgreSQL). */
export function forShare<QB extends Lockable<QB>>(db: Kysely<any>, qb: QB): QB {
  return isPostgres(db) ? qb.forShare() : qb;
}
