import type { Insertable } from 'kysely';
import { isPostgres } from '../../db/dialect.js';
import type { AttachmentRow, AttachmentsTable, Db } from '../../db/schema.js';
import { attachmentView, type AttachmentView } from './attachments.view.js';

export type AttachmentWithMessage = AttachmentRow & { chat_room_id: number; sender_id: number };

export const attachmentsRepository = {
  insert(db: Db, a: Insertable<AttachmentsTable>): Promise<AttachmentRow> {
    return db.insertInto('attachments').values(a).returningAll().executeTakeFirstOrThrow();
  },

  /** The attachment with its message's room and sender (for access checks). */
  findWithMessage(db: Db, id: number): Promise<AttachmentWithMessage | undefined> {
    return db
      .selectFrom('attachments as a')
      .innerJoin('messages as m', 'm.id', 'a.message_id')
      .selectAll('a')
      .select(['m.chat_room_id', 'm.sender_id'])
      .where('a.id', '=', id)
      .executeTakeFirst();
  },

  findByMessage(db: Db, messageId: number): Promise<AttachmentRow | undefined> {
    return db.selectFrom('attachments').selectAll().where('message_id', '=', messageId).executeTakeFirst();
  },

  /** The attachment of each message that has one. */
  async viewsFor(db: Db, messageIds: number[]): Promise<Map<number, AttachmentView>> {
    if (messageIds.length === 0) return new Map();
    const rows = await db.selectFrom('attachments').selectAll().where('message_id', 'in', messageIds).execute();
    return new Map(rows.map((a) => [a.message_id, attachmentView(a)]));
  },

  /** Bytes of attachments `userId` uploaded that are still stored (their quota's use). */
  async storedBytes(db: Db, userId: number): Promise<number> {
    const row = await db.selectFrom('attachments').select((eb) => eb.fn.sum<number | string | null>('size').as('n')).where('uploader_id', '=', userId).executeTakeFirst();
    return Number(row?.n ?? 0);
  },

  /**
   * Makes one user's uploads take turns until the transaction ends: their account row is locked
   * (FOR NO KEY UPDATE on PostgreSQL, which leaves rows referencing the account free to be written;
   * SQLite runs one writer at a time), so a quota check and the insert it allows are not
   * interleaved with another upload's.
   */
  async lockUploader(trx: Db, userId: number): Promise<void> {
    const q = trx.selectFrom('users').select('id').where('id', '=', userId);
    await (isPostgres(trx) ? q.forNoKeyUpdate() : q).execute();
  },

  async delete(db: Db, id: number): Promise<void> {
    await db.deleteFrom('attachments').where('id', '=', id).execute();
  },

  /** Deletes a message's attachment rows; returns their storage keys (the files go after commit). */
  async deleteForMessage(db: Db, messageId: number): Promise<string[]> {
    const rows = await db.deleteFrom('attachments').where('message_id', '=', messageId).returning('storage_key').execute();
    return rows.map((r) => r.storage_key);
  },

  /** Storage keys of every attachment in a room (its rows go with the room's messages). */
  async keysForRoom(db: Db, chatRoomId: number): Promise<string[]> {
    const rows = await db
      .selectFrom('attachments as a')
      .innerJoin('messages as m', 'm.id', 'a.message_id')
      .select('a.storage_key')
      .where('m.chat_room_id', '=', chatRoomId)
      .execute();
    return rows.map((r) => r.storage_key);
  },
};
