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

/** PostgreSQL: the highest id the event table's sequence has handed out (committed or not). */
export async function pgEventIdHead(db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ last_value: string; is_called: boolean }>`select last_value, is_called from events_id_seq`.execute(db);
  return rows[0].is_called ? Number(rows[0].last_value) : 0;
}

/**
 * PostgreSQL: the ids of this database's write transactions in progress now. (Not a snapshot's
 * xip list: that leaves out every transaction newer than the last one to complete.) Sessions of
 * the same role, as the app's are, show their backend_xid.
 */
export async function pgTransactionsInProgress(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ xid: string }>`select backend_xid::text as xid from pg_stat_activity where datname = current_database() and backend_xid is not null`.execute(db);
  return rows.map((r) => r.xid);
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
