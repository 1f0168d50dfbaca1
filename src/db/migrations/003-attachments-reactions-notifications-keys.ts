import type { Kysely } from 'kysely';
import { withId, type DialectName } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  // One attachment per message (the message's `attachment` field is single). The file lives in
  // the FileStore under `storage_key`, a name the server chose; `file_name` is only shown.
  await withId(db.schema.createTable('attachments'), dialect)
    .addColumn('message_id', 'integer', (c) => c.notNull().unique().references('messages.id').onDelete('cascade'))
    .addColumn('uploader_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('file_type', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable('reactions'), dialect)
    .addColumn('message_id', 'integer', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('reaction_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('reactions_message_user_uq', ['message_id', 'user_id'])
    .execute();

  // A notification goes when what it points at goes (room, message, reaction).
  await withId(db.schema.createTable('notifications'), dialect)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('chat_room_id', 'integer', (c) => c.references('chat_rooms.id').onDelete('cascade'))
    .addColumn('message_id', 'integer', (c) => c.references('messages.id').onDelete('cascade'))
    .addColumn('reaction_id', 'integer', (c) => c.references('reactions.id').onDelete('cascade'))
    .addColumn('actor_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('is_read', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_user_idx').on('notifications').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('notifications_message_idx').on('notifications').column('message_id').execute();

  // The public-key directory (never a private key; `label` is the seed's opaque `private_key` reference).
  await withId(db.schema.createTable('e2ee_keys'), dialect)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('key_format', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('e2ee_keys_user_idx').on('e2ee_keys').columns(['user_id', 'id']).execute();

  // X3DH: one identity key and signed prekey per user, and a pool of one-time prekeys that
  // are deleted as they are claimed (each is handed out once).
  await db.schema
    .createTable('prekey_identities')
    .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('identity_key', 'text', (c) => c.notNull())
    .addColumn('signed_prekey_id', 'integer', (c) => c.notNull())
    .addColumn('signed_prekey', 'text', (c) => c.notNull())
    .addColumn('signed_prekey_signature', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await withId(db.schema.createTable('one_time_prekeys'), dialect)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key_id', 'integer', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('one_time_prekeys_user_key_uq', ['user_id', 'key_id'])
    .execute();
  await db.schema.createIndex('one_time_prekeys_user_idx').on('one_time_prekeys').columns(['user_id', 'id']).execute();

  // Events addressed to one user (notifications): published on user:<id> only and replayed to
  // that user only. They belong to no room: chat_room_id is 0 for them.
  await db.schema.alterTable('events').addColumn('recipient_id', 'integer').execute();
  await db.schema.createIndex('events_recipient_idx').on('events').columns(['recipient_id', 'id']).execute();

  // A muted conversation makes no notifications for its member.
  await db.schema.alterTable('memberships').addColumn('is_muted', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}
