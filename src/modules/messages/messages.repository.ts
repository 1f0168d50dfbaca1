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

/** A message inserted by insertAsMembers, with the room and the sender's names its check read. */
export interface MemberSent {
  row: MessageRow;
  room: ChatRoomRow;
  caller: CallerNames;
}

type MemberSentRow = MessageRow & { ord: number; room: ChatRoomRow; u_username: string; u_first_name: string; u_last_name: string };

/** A send for insertAsMembers: the message and who it may mention. */
export interface MemberSend {
  message: SentMessage;
  mentions: { ids: number[]; names: string[] };
}

// PostgreSQL: the send path's checks and inserts for a batch of sends as one statement (data-
// modifying CTEs), the sends given as one JSON array. A send's room is read only with the
// sender's active membership and active account, and its reply_to only if it is a message of the
// room; the insert takes its rows from that read, so nothing is inserted for a send when any of
// it fails, nor when the sender's client_id already names a message. Ids are drawn in the sends'
// order, before the insert, so that each row inserted can be matched to its send (`ord`).
const insertAsMembersPg = preparedQuery((db, p: Param<{ sends: string }>) => {
  const ofA = (column: string) => sql.ref(`a.${column}`);
  // `@name` in an encrypted room's content would be ciphertext: there, only ids count.
  const names = sql<string>`(case when a.is_encrypted = 0 then a.mention_names else '[]' end)`;
  const mentions = sql`(case when a.mention_ids = '[]' and ${names} = '[]' then '[]'
    else ${mentionedMembers(db, ofA('chat_room_id') as never, { ids: ofA('mention_ids') as never, names })} end)`;
  const query = sql<MemberSentRow>`with s as (
      select * from json_to_recordset(cast(${p('sends')} as json)) as s(ord integer, chat_room_id integer, sender_id integer,
        client_id text, content text, public_key text, reply_to_id integer, thread_root_id integer, created_at text,
        updated_at text, mention_ids text, mention_names text)
    ), checked as (
      select s.*, r.is_encrypted, to_json(r) as room, u.username as u_username, u.first_name as u_first_name, u.last_name as u_last_name
      from s
      join chat_rooms r on r.id = s.chat_room_id
      join memberships ms on ms.chat_room_id = r.id and ms.user_id = s.sender_id and ms.is_active = 1
      join users u on u.id = ms.user_id and u.is_active = 1
      where s.reply_to_id is null or exists (select 1 from messages m where m.id = s.reply_to_id and m.chat_room_id = r.id)
      order by s.ord
    ), a as (
      select checked.*, nextval('messages_id_seq') as id from checked
    ), sent as (
      insert into messages (id, chat_room_id, sender_id, client_id, content, public_key, reply_to_id, thread_root_id, mentions, created_at, updated_at)
      select a.id, a.chat_room_id, a.sender_id, a.client_id, a.content, a.public_key, a.reply_to_id, a.thread_root_id, ${mentions}, a.created_at, a.updated_at
      from a
      order by a.id
      on conflict (sender_id, client_id) do nothing
      returning *
    )
    select sent.*, a.ord, a.room, a.u_username, a.u_first_name, a.u_last_name from sent join a on a.id = sent.id`;
  return { compile: () => query.compile(db) };
});

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
   * PostgreSQL: `insert` for each of `sends`, in one statement with the checks that let each
   * sender send it (an active member with an active account; `reply_to_id` a message of the
   * room): one round trip for a batch of sends instead of two for each. A send's entry is
   * undefined when nothing was inserted for it (a check failed, or its `client_id` was used
   * before): the caller then checks step by step, which says why. Always undefined on SQLite,
   * whose statements run in-process (a round trip costs microseconds). `mentions.names` count
   * only outside encrypted rooms.
   */
  async insertAsMembers(db: Db, sends: MemberSend[]): Promise<Array<MemberSent | undefined>> {
    const out = new Array<MemberSent | undefined>(sends.length);
    if (!isPostgres(db)) return out;
    const json = JSON.stringify(sends.map((s, ord) => ({ ord, ...s.message, ...mentionParams(s.mentions) })));
    for (const r of await insertAsMembersPg(db, { sends: json })) {
      const { ord, room, u_username, u_first_name, u_last_name, ...row } = r;
      out[ord] = { row, room, caller: { id: row.sender_id, username: u_username, first_name: u_first_name, last_name: u_last_name } };
    }
    return out;
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
