import { sql, type Insertable } from 'kysely';
import { isPostgres } from '../../db/dialect.js';
import type { Db, NotificationRow, NotificationsTable } from '../../db/schema.js';
import { fullName } from '../messages/messages.view.js';

const INSERT_CHUNK = 500;

export type MessageNotification = Pick<Insertable<NotificationsTable>, 'body' | 'chat_room_id' | 'message_id' | 'actor_id' | 'created_at'> & {
  chat_room_id: number;
  /** The sender, left out. */
  except_user: number;
  /** The mentioned members' ids: each gets a `mention` (with `mention_body`), muted or not. */
  mentioned: number[];
  mention_body: string;
};

/** Who a room's notifications go to: its active members who have not muted it. */
const listeners = (db: Db, chatRoomId: number) =>
  db.selectFrom('memberships').where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).where('is_muted', '=', 0);

/**
 * The notifications of a batch's new messages, by one statement: for each message, a `mention`
 * for each mentioned active member (muted or not), a `message` for every other active, unmuted
 * member when the room has at most `maxMembers` active members, never the sender. The messages
 * come as one JSON parameter, read as rows by the database.
 */
function insertForMessages(db: Db, messages: MessageNotification[], maxMembers: number) {
  const json = JSON.stringify(messages.map((n, ord) => ({ ...n, ord })));
  const postgres = isPostgres(db);
  const source = postgres
    ? sql`select * from jsonb_to_recordset(cast(${json} as jsonb)) as v(ord integer, body text, mention_body text, mentioned jsonb,
        chat_room_id integer, message_id integer, actor_id integer, created_at text, except_user integer)`
    : sql`select key as ord, value ->> 'body' as body, value ->> 'mention_body' as mention_body, value -> 'mentioned' as mentioned,
        value ->> 'chat_room_id' as chat_room_id, value ->> 'message_id' as message_id, value ->> 'actor_id' as actor_id,
        value ->> 'created_at' as created_at, value ->> 'except_user' as except_user from json_each(${json})`;
  const mentioned = postgres ? sql`v.mentioned @> to_jsonb(m.user_id)` : sql`m.user_id in (select value from json_each(v.mentioned))`;
  return sql<NotificationRow>`insert into notifications (type, body, chat_room_id, message_id, actor_id, created_at, user_id)
    select case when ${mentioned} then 'mention' else 'message' end, case when ${mentioned} then v.mention_body else v.body end,
      v.chat_room_id, v.message_id, v.actor_id, v.created_at, m.user_id
    from (${source}) v join memberships m on m.chat_room_id = v.chat_room_id
    where m.is_active = 1 and m.user_id <> v.except_user and (${mentioned} or (m.is_muted = 0 and not exists (
      select 1 from memberships x where x.chat_room_id = v.chat_room_id and x.is_active = 1 limit 1 offset ${maxMembers})))
    order by v.ord, m.user_id
    returning *`.execute(db);
}

export const notificationsRepository = {
  /** Inserts in chunks, returning the rows in the order given. */
  async insertMany(db: Db, rows: Array<Insertable<NotificationsTable>>): Promise<NotificationRow[]> {
    const out: NotificationRow[] = [];
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const inserted = await db.insertInto('notifications').values(rows.slice(i, i + INSERT_CHUNK)).returningAll().execute();
      out.push(...inserted.sort((a, b) => a.id - b.id));
    }
    return out;
  },

  /** The notifications of new messages (see insertForMessages), in id order: by message as given, then by user. */
  async insertForMessages(db: Db, messages: MessageNotification[], maxMembers: number): Promise<NotificationRow[]> {
    const { rows } = await insertForMessages(db, messages, maxMembers);
    return rows.sort((a, b) => a.id - b.id);
  },

  findOwn(db: Db, userId: number, id: number): Promise<NotificationRow | undefined> {
    return db.selectFrom('notifications').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  },

  /** The user's notifications, newest first. */
  async page(db: Db, userId: number, o: { isRead?: boolean; offset: number; limit: number }): Promise<{ count: number; rows: NotificationRow[] }> {
    let q = db.selectFrom('notifications').where('user_id', '=', userId);
    if (o.isRead !== undefined) q = q.where('is_read', '=', o.isRead ? 1 : 0);
    const [{ count }, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
      q.selectAll().orderBy('id', 'desc').offset(o.offset).limit(o.limit).execute(),
    ]);
    return { count: Number(count), rows };
  },

  setRead(db: Db, userId: number, id: number, isRead: boolean): Promise<NotificationRow | undefined> {
    return db
      .updateTable('notifications')
      .set({ is_read: isRead ? 1 : 0 })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirst();
  },

  async markAllRead(db: Db, userId: number): Promise<number> {
    const res = await db.updateTable('notifications').set({ is_read: 1 }).where('user_id', '=', userId).where('is_read', '=', 0).executeTakeFirst();
    return Number(res.numUpdatedRows);
  },

  async deleteOwn(db: Db, userId: number, id: number): Promise<boolean> {
    const res = await db.deleteFrom('notifications').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  },

  async deleteForMessage(db: Db, messageId: number): Promise<void> {
    await db.deleteFrom('notifications').where('message_id', '=', messageId).execute();
  },

  /** Of `userIds` (or of every member when omitted), the active members of the room who have not muted it, minus `except`. */
  async audience(db: Db, chatRoomId: number, o: { only?: number[]; except?: number[] }): Promise<number[]> {
    if (o.only && o.only.length === 0) return [];
    let q = listeners(db, chatRoomId).select('user_id');
    if (o.only) q = q.where('user_id', 'in', o.only);
    if (o.except?.length) q = q.where('user_id', 'not in', o.except);
    return (await q.orderBy('user_id').execute()).map((r) => r.user_id);
  },

  /** Display names (first and last name, or the username) of the given users. */
  async names(db: Db, userIds: number[]): Promise<Map<number, string>> {
    if (userIds.length === 0) return new Map();
    const rows = await db.selectFrom('users').select(['id', 'first_name', 'last_name', 'username']).where('id', 'in', userIds).execute();
    return new Map(rows.map((r) => [r.id, fullName(r.first_name, r.last_name, r.username)]));
  },
};
