import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * PostgreSQL: the search index takes each send's lexemes into its tree at once, instead of
 * GIN's pending list (`fastupdate`, on by default). Every search scans the whole pending list
 * against each of its terms, and the list is merged only by vacuum or once it outgrows
 * `gin_pending_list_limit` (4 MB): on a table of 1,000,000 messages autovacuum comes after some
 * 200,000 inserts, so a live server's list is usually thousands of messages long. Measured on
 * the search benchmark's database with 20,000 messages pending, the ranking statement's p50: a
 * rare word 1.4 → 78 ms, a common one 3.5 → 77 ms, the member of 200 rooms 14 → 487 ms (a whole
 * search, find(): 7.4 → 82.7, 8.4 → 83.9, 26.7 → 519 ms); and the send that finds
 * the list full merges it (20,000 entries took 0.8–0.9 s). Without the list a message's insert
 * costs 31–42 µs more, about what merging it later costs (bench/README.md, "A database as a
 * live server leaves it"). The entries already pending are merged here.
 *
 * SQLite: nothing to do (FTS5 merges its segments as it writes).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`alter index message_search_room_lexemes_idx set (fastupdate = off)`.execute(db);
  await sql`select gin_clean_pending_list('message_search_room_lexemes_idx'::regclass)`.execute(db);
}
