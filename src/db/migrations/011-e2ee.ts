import { sql, type Kysely } from 'kysely';
import { withId, type DialectName } from '../dialect.js';

/**
 * End-to-end encrypted rooms, the server's part (issue 12):
 * - `chat_rooms.is_encrypted`: one way, 0 → 1, never back (the service refuses it).
 * - `e2ee_devices`: the key directory per device (a browser): its identity and signing keys,
 *   which never change (a new identity is a new device), and its current signed prekey.
 * - `device_prekeys`: each device's one-time prekeys, deleted as they are claimed.
 * - `to_device_messages`: opaque envelopes queued for one device until it acknowledges them.
 * Prekeys and envelopes go with their device (foreign keys cascade), and a deleted account's
 * devices go in the transaction that deletes it (a trigger on `users.deleted_at`, whatever path
 * deletes it), so no envelope keeps waiting for a device nobody can use.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema.alterTable('chat_rooms').addColumn('is_encrypted', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await withId(db.schema.createTable('e2ee_devices'), dialect)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('identity_key', 'text', (c) => c.notNull())
    .addColumn('signing_key', 'text', (c) => c.notNull())
    .addColumn('signed_prekey_id', 'integer', (c) => c.notNull())
    .addColumn('signed_prekey', 'text', (c) => c.notNull())
    .addColumn('signed_prekey_signature', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('e2ee_devices_user_device_uq', ['user_id', 'device_id'])
    .execute();

  await withId(db.schema.createTable('device_prekeys'), dialect)
    .addColumn('device_pk', 'integer', (c) => c.notNull().references('e2ee_devices.id').onDelete('cascade'))
    .addColumn('key_id', 'integer', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('device_prekeys_device_key_uq', ['device_pk', 'key_id'])
    .execute();
  // Claims take a device's oldest prekey.
  await db.schema.createIndex('device_prekeys_device_idx').on('device_prekeys').columns(['device_pk', 'id']).execute();

  await withId(db.schema.createTable('to_device_messages'), dialect)
    .addColumn('device_pk', 'integer', (c) => c.notNull().references('e2ee_devices.id').onDelete('cascade'))
    // Kept when the sender's account goes: the envelope may hold the key to messages they sent.
    .addColumn('sender_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('sender_device', 'text', (c) => c.notNull())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // A device's queue, oldest first (fetch, count, acknowledge).
  await db.schema.createIndex('to_device_messages_device_idx').on('to_device_messages').columns(['device_pk', 'id']).execute();

  if (dialect === 'sqlite') {
    await sql`create trigger e2ee_devices_account_deleted after update of deleted_at on users
      when old.deleted_at is null and new.deleted_at is not null
      begin
        delete from e2ee_devices where user_id = new.id;
      end`.execute(db);
    return;
  }
  await sql`create function e2ee_devices_account_deleted() returns trigger language plpgsql as $$
    begin
      delete from e2ee_devices where user_id = new.id;
      return null;
    end
  $$`.execute(db);
  await sql`create trigger e2ee_devices_account_deleted after update of deleted_at on users for each row
    when (old.deleted_at is null and new.deleted_at is not null)
    execute function e2ee_devices_account_deleted()`.execute(db);
}
