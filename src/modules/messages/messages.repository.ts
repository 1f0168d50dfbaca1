import { sql, type Insertable, type SelectQueryBuilder, type Updateable } from 'kysely';
import { isPostgres } from '../../db/dialect.js';
import { preparedQuery, type Param } from '../../db/prepared.js';
import type { ChatRoomRow, DB, Db, MessageRow, MessagesTable } from '../../db/schema.js';
import type { CallerNames } from '../rooms/rooms.repository.js';
import { attachmentsRepository } from '../attachments/attachments.repository.js';
import { reactionsRepository } from '../reactions/reactions.repository.js';
import { mentionedMembers } from './mentions.js';
import type { MessageRecord } from './messages.view.js';

export type NewMessage = Insertable<MessagesTable>;

const withSender = (db: Db) =>
  db
    .selectFrom('messages as m')
    .innerJoin('users as u', 'u.id', 'm.sender_id')
    .selectAll('m')
    .select(['u.username as sender_username', 'u.first_name as sender_first_name', 'u.last_name as sender_last_name']);

/** Loads the reactions and attachment of each message (two queries however many messages). */
async function withExtras(db: Db, rows: MessageRecord[]): Promise<MessageRecord[]> {
  if (rows.length === 0) return rows;
  const ids = rows.map((r) => r.id);
  const [reactions, attachments] = await Promise.all([reactionsRepository.summariesFor(db, ids), attachmentsRepository.viewsFor(db, ids)]);
  for (const r of rows) {
    r.reactions = reactions.get(r.id) ?? [];
    r.attachment = attachments.get(r.id) ?? null;
  }
  return rows;
}

/** What a history page lists: a room's top-level messages, or one thread's replies. */
export type Listing = { chatRoomId: number } | { threadRootId: number };

// Both listings select from `messages as m` (with or without the sender joined).
function listed<Q>(query: Q, where: Listing): Q {
  const q = query as unknown as SelectQueryBuilder<DB & { m: MessagesTable }, 'm', unknown>;
  const out = 'threadRootId' in where
    ? q.where('m.thread_root_id', '=', where.threadRootId)
    : q.where('m.chat_room_id', '=', where.chatRoomId).where('m.thread_root_id', 'is', null);
  return out as unknown as Q;
}

const oneWithExtras = async (db: Db, row: MessageRecord | undefined) => (row ? (await withExtras(db, [row]))[0] : undefined);

type SentMessage = Pick<NewMessage, 'chat_room_id' | 'sender_id' | 'client_id' | 'content' | 'public_key' | 'reply_to_id' | 'thread_root_id' | 'created_at' | 'updated_at'>;

// The send path's insert (prepared once: see db/prepared.ts); with mention candidates, the
// mentioned members are found by the same statement.
const insertSent = (mentioning: boolean) =>
  preparedQuery((db, p: Param<SentMessage & { mention_ids: string; mention_names: string }>) =>
    db
      .insertInto('messages')
      .values({
        chat_room_id: p('chat_room_id'),
        sender_id: p('sender_id'),
        client_id: p('client_id'),
        content: p('content'),
        public_key: p('public_key'),
        reply_to_id: p('reply_to_id'),
        thread_root_id: p('thread_root_id'),
        mentions: mentioning ? mentionedMembers(db, p('chat_room_id'), { ids: p('mention_ids'), names: p('mention_names') }) : '[]',
        created_at: p('created_at'),
        updated_at: p('updated_at'),
      })
      .returningAll(),
  );
const insertPlain = insertSent(false);
const insertMentioning = insertSent(true);

type MentionParams = { mention_ids: string; mention_names: string };

/** A message inserted by insertAsMember, with the room and the sender's names its check read. */
export interface MemberSent {
  row: MessageRow;
  room: ChatRoomRow;
  caller: CallerNames;
}

type MemberSentRow = MessageRow & { room: ChatRoomRow; u_username: string; u_first_name: string; u_last_name: string };

// PostgreSQL: the send path's check and insert as one statement (a data-modifying CTE). The room
// is read only with the sender's active membership and active account, and a reply_to only if
// it is a message of the room; the insert takes its row from that read, so no row is inserted
// when any of it fails, nor when the sender's client_id already names a message.
const insertAsMemberPg = (mentioning: boolean) =>
  preparedQuery((db, p: Param<SentMessage & MentionParams>) => {
    // `@name` in an encrypted room's content would be ciphertext: there, only ids count.
    const mentions = mentioning
      ? mentionedMembers(db, p('chat_room_id'), { ids: p('mention_ids'), names: sql<string>`(case when a.is_encrypted = 0 then ${p('mention_names')} else '[]' end)` })
      : sql`'[]'`;
    const query = sql<MemberSentRow>`with a as (
        select r.id, r.is_encrypted, to_json(r) as room, u.username as u_username, u.first_name as u_first_name, u.last_name as u_last_name
        from chat_rooms r
        join memberships ms on ms.chat_room_id = r.id and ms.user_id = ${p('sender_id')} and ms.is_active = 1
        join users u on u.id = ms.user_id and u.is_active = 1
        where r.id = ${p('chat_room_id')}
          and (cast(${p('reply_to_id')} as integer) is null
            or exists (select 1 from messages x where x.id = ${p('reply_to_id')} and x.chat_room_id = r.id))
      ), sent as (
        insert into messages (chat_room_id, sender_id, client_id, content, public_key, reply_to_id, thread_root_id, mentions, created_at, updated_at)
        select a.id, ${p('sender_id')}, ${p('client_id')}, ${p('content')}, ${p('public_key')}, ${p('reply_to_id')}, ${p('thread_root_id')}, ${mentions}, ${p('created_at')}, ${p('updated_at')}
        from a
        on conflict (sender_id, client_id) do nothing
        returning *
      )
      select sent.*, a.room, a.u_username, a.u_first_name, a.u_last_name from sent cross join a`;
    return { compile: () => query.compile(db) };
  });
const insertAsMemberPlain = insertAsMemberPg(false);
const insertAsMemberMentioning = insertAsMemberPg(true);

function mentionParams(mentions: { ids: number[]; names: string[] }): MentionParams {
  return { mention_ids: JSON.stringify(mentions.ids), mention_names: JSON.stringify(mentions.names) };
}

export const messagesRepository = {
  /** A sent message; it mentions those of `mentions`' user ids and username keys who are active members of the room. */
  async insert(db: Db, m: SentMessage, mentions: { ids: number[]; names: string[] }): Promise<MessageRow> {
    if (mentions.ids.length === 0 && mentions.names.length === 0) return (await insertPlain(db, { ...m, mention_ids: '[]', mention_names: '[]' }))[0];
    return (await insertMentioning(db, { ...m, ...mentionParams(mentions) }))[0];
  },

  /**
   * PostgreSQL: `insert`, in the same statement as the checks that let `m.sender_id` send it (an
   * active member with an active account; `reply_to_id` a message of the room): one round trip
   * instead of two on the send path. Undefined when nothing was inserted (a check failed, or
   * `client_id` was used before): the caller then checks step by step, which says why. Always
   * undefined on SQLite, whose statements run in-process (a round trip costs microseconds).
   * `mentions.names` count only outside encrypted rooms.
   */
  async insertAsMember(db: Db, m: SentMessage, mentions: { ids: number[]; names: string[] }): Promise<MemberSent | undefined> {
    if (!isPostgres(db)) return undefined;
    const mentioning = mentions.ids.length > 0 || mentions.names.length > 0;
    const [r] = await (mentioning ? insertAsMemberMentioning : insertAsMemberPlain)(db, { ...m, ...mentionParams(mentions) });
    if (!r) return undefined;
    const { room, u_username, u_first_name, u_last_name, ...row } = r;
    return { row, room, caller: { id: row.sender_id, username: u_username, first_name: u_first_name, last_name: u_last_name } };
  },

  /** Bulk insert in chunks (imports, fixtures); no events are written. */
  async insertMany(db: Db, rows: NewMessage[], chunk = 500): Promise<void> {
    for (let i = 0; i < rows.length; i += chunk) await db.insertInto('messages').values(rows.slice(i, i + chunk)).execute();
  },

  async findById(db: Db, id: number): Promise<MessageRecord | undefined> {
    return oneWithExtras(db, await withSender(db).where('m.id', '=', id).executeTakeFirst());
  },

  async findByIds(db: Db, ids: number[]): Promise<MessageRecord[]> {
    if (ids.length === 0) return [];
    return withExtras(db, await withSender(db).where('m.id', 'in', ids).execute());
  },

  async findByClientId(db: Db, senderId: number, clientId: string): Promise<MessageRecord | undefined> {
    return oneWithExtras(db, await withSender(db).where('m.sender_id', '=', senderId).where('m.client_id', '=', clientId).executeTakeFirst());
  },

  /** The room of a message (null if there is no such message); a message never moves. */
  async roomOf(db: Db, id: number): Promise<number | null> {
    const row = await db.selectFrom('messages').select('chat_room_id').where('id', '=', id).executeTakeFirst();
    return row?.chat_room_id ?? null;
  },

  async inRoom(db: Db, id: number, chatRoomId: number): Promise<boolean> {
    const row = await db.selectFrom('messages').select('id').where('id', '=', id).where('chat_room_id', '=', chatRoomId).executeTakeFirst();
    return !!row;
  },

  /**
   * One page of a room's top-level messages, or (`thread`) of a thread's replies. Without `after`:
   * the newest `limit` messages below `before` (if given). With `after`: the first `limit` messages
   * after it (and below `before`), so walking forward skips nothing. Both come back newest first;
   * `more` says whether the walk would find further messages in its direction.
   */
  async page(db: Db, where: Listing, o: { before?: number; after?: number; limit: number }): Promise<{ rows: MessageRecord[]; more: boolean }> {
    let q = listed(withSender(db), where);
    if (o.before !== undefined) q = q.where('m.id', '<', o.before);
    if (o.after !== undefined) q = q.where('m.id', '>', o.after);
    const rows = await q.orderBy('m.id', o.after !== undefined ? 'asc' : 'desc').limit(o.limit + 1).execute();
    const more = rows.length > o.limit;
    if (more) rows.pop();
    if (o.after !== undefined) rows.reverse();
    return { rows: await withExtras(db, rows), more };
  },

  /** Whether the listing has a message above `id` (direction 'newer') or below it ('older'). */
  async exists(db: Db, where: Listing, direction: 'newer' | 'older', id: number): Promise<boolean> {
    const row = await listed(db.selectFrom('messages as m').select('m.id'), where)
      .where('m.id', direction === 'newer' ? '>' : '<', id)
      .limit(1)
      .executeTakeFirst();
    return !!row;
  },

  /** A room's pinned messages, newest pin first. */
  async pinned(db: Db, chatRoomId: number): Promise<MessageRecord[]> {
    return withExtras(db, await withSender(db).where('m.chat_room_id', '=', chatRoomId).where('m.pinned_at', 'is not', null).orderBy('m.pinned_at', 'desc').orderBy('m.id', 'desc').execute());
  },

  async pinCount(db: Db, chatRoomId: number): Promise<number> {
    const row = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('chat_room_id', '=', chatRoomId).where('pinned_at', 'is not', null).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async lastId(db: Db, chatRoomId: number): Promise<number | null> {
    const row = await db.selectFrom('messages').select((eb) => eb.fn.max('id').as('id')).where('chat_room_id', '=', chatRoomId).executeTakeFirst();
    return row?.id ?? null;
  },

  update(db: Db, id: number, patch: Updateable<MessagesTable>): Promise<MessageRow> {
    return db.updateTable('messages').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  },
};
