import type { Kysely } from 'kysely';
import { withId, type DialectName } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  // private_key = 'minUserId:maxUserId' for a private room with both members, else null:
  // the unique constraint makes "one private room per pair" race-safe.
  await withId(db.schema.createTable('chat_rooms'), dialect)
    .addColumn('room_type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('private_key', 'text', (c) => c.unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chat_rooms_public_idx').on('chat_rooms').columns(['room_type', 'is_public']).execute();

  // is_active: a current member (0 after leaving). hidden_at_message_id: the conversation is
  // hidden from the user's list until a message newer than this id arrives (null: not hidden).
  await withId(db.schema.createTable('memberships'), dialect)
    .addColumn('chat_room_id', 'integer', (c) => c.notNull().references('chat_rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('member'))
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('joined_at', 'text', (c) => c.notNull())
    .addColumn('left_at', 'text')
    .addColumn('last_read_message_id', 'integer')
    .addColumn('marked_unread', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('hidden_at_message_id', 'integer')
    .addUniqueConstraint('memberships_room_user_uq', ['chat_room_id', 'user_id'])
    .execute();
  await db.schema.createIndex('memberships_user_idx').on('memberships').columns(['user_id', 'is_active']).execute();
  await db.schema.createIndex('memberships_room_idx').on('memberships').columns(['chat_room_id', 'is_active']).execute();

  await withId(db.schema.createTable('messages'), dialect)
    .addColumn('chat_room_id', 'integer', (c) => c.notNull().references('chat_rooms.id').onDelete('cascade'))
    .addColumn('sender_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_id', 'text')
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text')
    .addColumn('reply_to_id', 'integer', (c) => c.references('messages.id').onDelete('set null'))
    .addColumn('is_edited', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('messages_sender_client_uq', ['sender_id', 'client_id'])
    .execute();
  await db.schema.createIndex('messages_room_idx').on('messages').columns(['chat_room_id', 'id']).execute();

  // The durable, ordered event log: row ids are the event ids clients see, in commit order.
  // No foreign keys: the log outlives the rooms and messages it mentions.
  await withId(db.schema.createTable('events'), dialect)
    .addColumn('chat_room_id', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'integer')
    .addColumn('message_id', 'integer')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_room_idx').on('events').columns(['chat_room_id', 'id']).execute();
  await db.schema.createIndex('events_message_idx').on('events').column('message_id').execute();
}
