import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * The event log is never read by message: a message event's text is read from `messages` by id
 * when it is sent, and nothing looks events up by `message_id` (no foreign key either: the log
 * outlives what it mentions). Its index only cost every appended event one more b-tree insert.
 */
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('events_message_idx').execute();
}
