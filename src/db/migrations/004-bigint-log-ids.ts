import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * The event log and notifications grow by one row per member per message: on PostgreSQL their
 * ids move from int4 to int8 (SQLite integers are 64-bit already). Nothing references them.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'postgres') return;
  for (const table of ['events', 'notifications']) {
    await sql`alter table ${sql.table(table)} alter column id type bigint`.execute(db);
    await sql`alter sequence ${sql.raw(`${table}_id_seq`)} as bigint`.execute(db);
  }
}
