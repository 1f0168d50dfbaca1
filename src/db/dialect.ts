// Every difference between SQLite and PostgreSQL lives here.
import type { ColumnDefinitionBuilder, CreateTableBuilder, Expression, Kysely } from 'kysely';
import { sql, type RawBuilder } from 'kysely';
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

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'SQLITE_BUSY']);

/**
 * The database cannot answer now (down, restarting, refusing connections, too busy), as opposed to
 * a fault of the query: the request may succeed if tried again shortly (503, not 500).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  // PostgreSQL: connection exceptions (08…), shutting down (57P01-57P03), too many connections (53300).
  if (/^(08...|57P0[123]|53300)$/.test(code) || UNREACHABLE.has(code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated|is not currently accepting connections|the database system is (starting up|shutting down|in recovery mode)|Client has encountered a connection error and is not queryable/.test(message);
}

export async function ping(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}

/**
 * PostgreSQL, in one round trip: the highest id the event table's sequence has handed out
 * (committed or not), then the write transactions in progress: each holds a lock on its own
 * transaction id from the moment it gets one until it has committed or rolled back. The list is
 * read after the head (its subquery depends on the head's row). Only transactions of sessions
 * holding a table lock in this database count (a writer locks its room's row, so a table, before
 * it has an id): a long transaction in another database of the cluster must not hold delivery
 * back. Not a snapshot's xip list: that leaves out every transaction newer than the last one to
 * complete. Not pg_stat_activity: 1.3 ms a call against 0.3 ms (pgbench).
 */
export async function pgEventIdHeadAndWriters(db: Kysely<any>): Promise<{ head: number; writers: string[] }> {
  const { rows } = await sql<{ head: string; writers: string[] }>`
    select h.head, array(
      select l.transactionid::text from pg_locks l
      where l.locktype = 'transactionid' and l.mode = 'ExclusiveLock' and l.granted and h.head is not null
        and l.pid in (select r.pid from pg_locks r where r.locktype = 'relation' and r.database = (select oid from pg_database where datname = current_database()))
    ) as writers
    from (select case when is_called then last_value else 0 end as head from events_id_seq) as h`.execute(db);
  return { head: Number(rows[0].head), writers: rows[0].writers };
}

/**
 * PostgreSQL refuses a prepared statement whose result columns changed since it was prepared
 * (another instance migrated the schema): the statement is prepared again, under a new name.
 */
export function isStalePlan(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
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

/**
 * `column` equals one of the values of a JSON array (text) given as one bound parameter: a list
 * that a prepared statement can take (db/prepared.ts), unlike `in (?, ?, …)`.
 */
export function inJsonArray(db: Kysely<any>, column: string, json: unknown, type: 'integer' | 'text'): RawBuilder<boolean> {
  if (!isPostgres(db)) return sql<boolean>`${sql.ref(column)} in (select value from json_each(${json}))`;
  const element = sql`jsonb_array_elements_text(cast(${json} as jsonb))`;
  return sql<boolean>`${sql.ref(column)} in (select ${type === 'integer' ? sql`cast(${element} as integer)` : element})`;
}

/** The integer column `column` of the subquery `rows`, ascending, as JSON array text ('[]' for none). */
export function sortedJsonArray(db: Kysely<any>, rows: Expression<unknown>, column: string): RawBuilder<string> {
  const ref = sql.ref(`x.${column}`);
  return isPostgres(db)
    ? sql<string>`(select cast(coalesce(json_agg(${ref} order by ${ref}), '[]') as text) from (${rows}) as x)`
    : sql<string>`(select json_group_array(${ref}) from (select * from (${rows}) order by ${sql.ref(column)}) as x)`;
}

/** Why the database refused a thread reply (its trigger of migration 013 raises these). */
export const THREAD_ROOT_NOT_IN_ROOM = 'thread root is not a message of the room';
export const THREAD_ROOT_IS_REPLY = 'thread root is a reply';

/** The reason a thread reply's insert failed, or null for any other error. */
export function threadRootRefusal(err: unknown): typeof THREAD_ROOT_NOT_IN_ROOM | typeof THREAD_ROOT_IS_REPLY | null {
  const message = (err as { message?: unknown } | null)?.message;
  return message === THREAD_ROOT_NOT_IN_ROOM || message === THREAD_ROOT_IS_REPLY ? message : null;
}
