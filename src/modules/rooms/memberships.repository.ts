import { sql, type Insertable, type Updateable } from 'kysely';
import type { ChatRoomRow, Db, MembershipRow, MembershipsTable } from '../../db/schema.js';
import { MAX_NAMES, type OtherMembers } from './rooms.view.js';

/** An active membership with its member's username, and whether their account is active (not deactivated). */
export type MemberRow = MembershipRow & { username: string; account_active: number };

export type MembershipWithRoom = MembershipRow & { room_type: ChatRoomRow['room_type']; room_name: string; is_encrypted: number };

const activeMembers = (db: Db, chatRoomId: number) =>
  db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .selectAll('m')
    .select(['u.username', 'u.is_active as account_active'])
    .where('m.chat_room_id', '=', chatRoomId)
    .where('m.is_active', '=', 1)
    .orderBy('m.id');

/** Unread counts stop here (a client shows "99+"). */
export const UNREAD_COUNT_MAX = 100;

export const membershipsRepository = {
  /** Whether the room has more than `n` active members (reads at most n + 1 index entries). */
  async hasMoreThan(db: Db, chatRoomId: number, n: number): Promise<boolean> {
    const row = await db.selectFrom('memberships').select('id').where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).orderBy('id').limit(1).offset(n).executeTakeFirst();
    return row !== undefined;
  },

  /** The rooms `userId` is an active member of, in id order. */
  async activeRoomIds(db: Db, userId: number): Promise<number[]> {
    const rows = await db.selectFrom('memberships').select('chat_room_id').where('user_id', '=', userId).where('is_active', '=', 1).orderBy('chat_room_id').execute();
    return rows.map((r) => r.chat_room_id);
  },

  /** Users who share an active room with `userId` (not themselves); with `among`, only those of them. */
  async roomMates(db: Db, userId: number, among?: number[]): Promise<number[]> {
    if (among?.length === 0) return [];
    let q = db
      .selectFrom('memberships as mine')
      .innerJoin('memberships as other', 'other.chat_room_id', 'mine.chat_room_id')
      .select('other.user_id')
      .distinct()
      .where('mine.user_id', '=', userId)
      .where('mine.is_active', '=', 1)
      .where('other.is_active', '=', 1)
      .where('other.user_id', '!=', userId);
    if (among) q = q.where('other.user_id', 'in', among);
    return (await q.execute()).map((r) => r.user_id);
  },

  insert(db: Db, m: Insertable<MembershipsTable>): Promise<MembershipRow> {
    return db.insertInto('memberships').values(m).returningAll().executeTakeFirstOrThrow();
  },

  async insertMany(db: Db, rows: Array<Insertable<MembershipsTable>>): Promise<void> {
    if (rows.length) await db.insertInto('memberships').values(rows).execute();
  },

  findById(db: Db, id: number): Promise<MembershipRow | undefined> {
    return db.selectFrom('memberships').selectAll().where('id', '=', id).executeTakeFirst();
  },

  find(db: Db, chatRoomId: number, userId: number): Promise<MembershipRow | undefined> {
    return db.selectFrom('memberships').selectAll().where('chat_room_id', '=', chatRoomId).where('user_id', '=', userId).executeTakeFirst();
  },

  update(db: Db, id: number, patch: Updateable<MembershipsTable>): Promise<MembershipRow> {
    return db.updateTable('memberships').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  },

  /** Moves the read position forward only (a late, older read from another device cannot move it back). */
  async advanceRead(db: Db, id: number, messageId: number): Promise<boolean> {
    const res = await db
      .updateTable('memberships')
      .set({ last_read_message_id: messageId, marked_unread: 0 })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_read_message_id', 'is', null), eb('last_read_message_id', '<', messageId)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  /** One page of a room's active members (oldest membership first) and their number. */
  async activeMembersPage(db: Db, chatRoomId: number, o: { offset: number; limit: number }): Promise<{ count: number; rows: MemberRow[] }> {
    const [total, rows] = await Promise.all([
      db.selectFrom('memberships').select((eb) => eb.fn.countAll<number>().as('n')).where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).executeTakeFirstOrThrow(),
      activeMembers(db, chatRoomId).offset(o.offset).limit(o.limit).execute(),
    ]);
    return { count: Number(total.n), rows };
  },

  /** One active member of a room, with their username. */
  activeMember(db: Db, chatRoomId: number, userId: number): Promise<MemberRow | undefined> {
    return activeMembers(db, chatRoomId).where('m.user_id', '=', userId).executeTakeFirst();
  },

  /** Active members with their usernames, oldest membership first. */
  activeMembers(db: Db, chatRoomId: number): Promise<MemberRow[]> {
    return activeMembers(db, chatRoomId).execute();
  },

  /** The caller's active memberships with their rooms. */
  listActiveForUser(db: Db, userId: number): Promise<MembershipWithRoom[]> {
    return db
      .selectFrom('memberships as m')
      .innerJoin('chat_rooms as r', 'r.id', 'm.chat_room_id')
      .selectAll('m')
      .select(['r.room_type', 'r.name as room_name', 'r.is_encrypted'])
      .where('m.user_id', '=', userId)
      .where('m.is_active', '=', 1)
      .orderBy('m.id')
      .execute();
  },

  /** Usernames of the other active members of each room, oldest membership first. */
  /**
   * For each room, its first MAX_NAMES other active members (oldest membership first) and how many
   * others there are: a bounded answer however large the rooms.
   */
  async otherMembers(db: Db, chatRoomIds: number[], userId: number): Promise<Map<number, OtherMembers>> {
    const out = new Map<number, OtherMembers>();
    if (chatRoomIds.length === 0) return out;
    const { rows } = await sql<{ chat_room_id: number; id: number; username: string; total: number }>`
      select chat_room_id, id, username, total from (
        select m.chat_room_id, u.id, u.username,
          row_number() over (partition by m.chat_room_id order by m.id) as position,
          count(*) over (partition by m.chat_room_id) as total
        from memberships m join users u on u.id = m.user_id
        where m.chat_room_id in (${sql.join(chatRoomIds)}) and m.is_active = 1 and m.user_id <> ${userId}
      ) ranked
      where position <= ${MAX_NAMES}
      order by chat_room_id, position`.execute(db);
    for (const r of rows) {
      const entry = out.get(r.chat_room_id) ?? { first: [], total: Number(r.total) };
      entry.first.push({ id: r.id, username: r.username });
      out.set(r.chat_room_id, entry);
    }
    return out;
  },

  /**
   * Per membership: its unread messages (from others, after the read position, not deleted),
   * counted up to UNREAD_COUNT_MAX (each count reads at most that many index entries), and its
   * room's latest message id. One statement, so both come from one snapshot: a message committed
   * meanwhile is either in the count and the latest, or in neither.
   */
  async readStates(db: Db, membershipIds: number[]): Promise<Map<number, { unread: number; lastMessageId: number | null }>> {
    if (membershipIds.length === 0) return new Map();
    const { rows } = await sql<{ id: number; count: number; last_id: number | null }>`
      select m.id, (
        select count(*) from (
          select 1 from messages x
          where x.chat_room_id = m.chat_room_id and x.id > coalesce(m.last_read_message_id, 0) and x.sender_id <> m.user_id and x.is_deleted = 0
          limit ${UNREAD_COUNT_MAX}
        ) unread
      ) as count, (select max(l.id) from messages l where l.chat_room_id = m.chat_room_id) as last_id
      from memberships m where m.id in (${sql.join(membershipIds)})`.execute(db);
    return new Map(rows.map((r) => [r.id, { unread: Number(r.count), lastMessageId: r.last_id === null ? null : Number(r.last_id) }]));
  },
};
