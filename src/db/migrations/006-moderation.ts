import type { Kysely } from 'kysely';
import { withId, type DialectName } from '../dialect.js';

/**
 * Team rooms: staff accounts, who deleted a message (an owner, admin or staff member may
 * delete someone else's), room bans and invite codes.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema.alterTable('users').addColumn('is_staff', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('messages').addColumn('deleted_by_id', 'integer', (c) => c.references('users.id').onDelete('set null')).execute();

  // One row per banned user and group; lifting the ban deletes it.
  await withId(db.schema.createTable('room_bans'), dialect)
    .addColumn('chat_room_id', 'integer', (c) => c.notNull().references('chat_rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('banned_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('room_bans_room_user_uq', ['chat_room_id', 'user_id'])
    .execute();

  // A code lets whoever holds it join the group, until it expires, is used up or is revoked.
  await withId(db.schema.createTable('room_invites'), dialect)
    .addColumn('chat_room_id', 'integer', (c) => c.notNull().references('chat_rooms.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('max_uses', 'integer')
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('room_invites_room_idx').on('room_invites').column('chat_room_id').execute();
}
