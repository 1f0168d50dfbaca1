import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Indexes for the two foreign keys whose deletes had to read the whole referencing table. When a
 * row is deleted, both databases look up the rows that point at it (to set null or to cascade):
 * without an index on the pointing column that is a scan of the table, once per deleted row.
 * - `messages.reply_to_id` (set null): deleting a group deletes its messages, and each one
 *   scanned every message of the server for replies to it. A group of 1,103 messages on a
 *   PostgreSQL server of 1,120,000 took 4 min 16 s to delete, in one transaction (0.3–1.2 s
 *   with the index).
 * - `notifications.reaction_id` (cascade): taking back a reaction scanned every notification.
 * Partial: only replies and reaction notifications are indexed, so other rows cost nothing more.
 * (`notifications.chat_room_id` is left as it is: one scan per deleted room, not per row.)
 */
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.createIndex('messages_reply_to_idx').on('messages').column('reply_to_id').where(sql.ref('reply_to_id'), 'is not', null).execute();
  await db.schema.createIndex('notifications_reaction_idx').on('notifications').column('reaction_id').where(sql.ref('reaction_id'), 'is not', null).execute();
}
