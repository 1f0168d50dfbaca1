import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Threads, pins and mentions. A reply names its thread's root (a top-level message of the same
 * room); the root keeps its thread's summary (reply count, last reply, first participants),
 * updated in the reply's transaction, so a page of history reads no more rows than before.
 */
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('thread_root_id', 'integer')
    .execute();
  await db.schema.alterTable('messages').addColumn('thread_reply_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('messages').addColumn('thread_last_reply_at', 'text').execute();
  // JSON arrays of user ids.
  await db.schema.alterTable('messages').addColumn('thread_participants', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('messages').addColumn('mentions', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('messages').addColumn('pinned_at', 'text').execute();
  await db.schema.alterTable('messages').addColumn('pinned_by_id', 'integer', (c) => c.references('users.id').onDelete('set null')).execute();
  await db.schema.createIndex('messages_thread_idx').on('messages').columns(['thread_root_id', 'id']).execute();
  await db.schema.createIndex('messages_pins_idx').on('messages').columns(['chat_room_id', 'pinned_at']).execute();
}
