import type { Insertable, Updateable } from 'kysely';
import { forShare } from '../../db/dialect.js';
import { preparedQuery, type Param } from '../../db/prepared.js';
import type { ChatRoomRow, ChatRoomsTable, Db, MembershipRow, UserRow } from '../../db/schema.js';

/** 'minId:maxId': the unique key of the private room between two users. */
export const privateKey = (a: number, b: number) => `${Math.min(a, b)}:${Math.max(a, b)}`;

// Both run on every send (prepared once: see db/prepared.ts).
const byId = preparedQuery((db, p: Param<{ id: number }>) => db.selectFrom('chat_rooms').selectAll().where('id', '=', p('id')));
// The room, the user's membership in it, and the user's names when their account is active (a
// send needs all three under the room's lock: one statement instead of two).
const withMembership = preparedQuery((db, p: Param<{ id: number; userId: number }>) =>
  db
    .selectFrom('chat_rooms as r')
    .leftJoin('memberships as m', (join) => join.onRef('m.chat_room_id', '=', 'r.id').on('m.user_id', '=', p('userId')))
    .leftJoin('users as u', (join) => join.on('u.id', '=', p('userId')).on('u.is_active', '=', 1))
    .selectAll('r')
    .select(['u.id as u_id', 'u.username as u_username', 'u.first_name as u_first_name', 'u.last_name as u_last_name'])
    .select([
      'm.id as m_id',
      'm.role as m_role',
      'm.is_active as m_is_active',
      'm.joined_at as m_joined_at',
      'm.left_at as m_left_at',
      'm.last_read_message_id as m_last_read_message_id',
      'm.marked_unread as m_marked_unread',
      'm.hidden_at_message_id as m_hidden_at_message_id',
      'm.is_muted as m_is_muted',
    ])
    .where('r.id', '=', p('id')),
);

/** The names of a user whose account is active. */
export type CallerNames = Pick<UserRow, 'id' | 'username' | 'first_name' | 'last_name'>;

export const roomsRepository = {
  insert(db: Db, room: Insertable<ChatRoomsTable>): Promise<ChatRoomRow> {
    return db.insertInto('chat_rooms').values(room).returningAll().executeTakeFirstOrThrow();
  },

  async findById(db: Db, id: number): Promise<ChatRoomRow | undefined> {
    return (await byId(db, { id }))[0];
  },

  findByPrivateKey(db: Db, key: string): Promise<ChatRoomRow | undefined> {
    return db.selectFrom('chat_rooms').selectAll().where('private_key', '=', key).executeTakeFirst();
  },

  /** The room and the user's membership row (active or not), in one query. */
  async findWithMembership(db: Db, id: number, userId: number): Promise<{ room: ChatRoomRow; membership: MembershipRow | null; caller: CallerNames | null } | undefined> {
    const [row] = await withMembership(db, { id, userId });
    if (!row) return undefined;
    const { u_id, u_username, u_first_name, u_last_name, m_id, m_role, m_is_active, m_joined_at, m_left_at, m_last_read_message_id, m_marked_unread, m_hidden_at_message_id, m_is_muted, ...room } = row;
    const membership: MembershipRow | null =
      m_id === null
        ? null
        : {
            id: m_id,
            chat_room_id: room.id,
            user_id: userId,
            role: m_role!,
            is_active: m_is_active!,
            joined_at: m_joined_at!,
            left_at: m_left_at,
            last_read_message_id: m_last_read_message_id,
            marked_unread: m_marked_unread!,
            hidden_at_message_id: m_hidden_at_message_id,
            is_muted: m_is_muted!, // mute flag (issue 5)
          };
    const caller = u_id === null ? null : { id: u_id, username: u_username!, first_name: u_first_name!, last_name: u_last_name! };
    return { room, membership, caller };
  },

  /** Rooms the user belongs to, and public groups, by id. */
  async listVisible(db: Db, userId: number, opts: { offset: number; limit: number }): Promise<{ count: number; rows: ChatRoomRow[] }> {
    const q = db.selectFrom('chat_rooms as r').where((eb) =>
      eb.or([
        eb.exists(
          eb.selectFrom('memberships as m').select('m.id').whereRef('m.chat_room_id', '=', 'r.id').where('m.user_id', '=', userId).where('m.is_active', '=', 1),
        ),
        eb.and([eb('r.room_type', '=', 'group'), eb('r.is_public', '=', 1)]),
      ]),
    );
    const [{ count }, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
      q.selectAll('r').orderBy('r.id').offset(opts.offset).limit(opts.limit).execute(),
    ]);
    return { count: Number(count), rows };
  },

  /** Active member counts by room. */
  async memberCounts(db: Db, roomIds: number[]): Promise<Map<number, number>> {
    if (roomIds.length === 0) return new Map();
    const rows = await db
      .selectFrom('memberships')
      .select(['chat_room_id', (eb) => eb.fn.countAll<number>().as('count')])
      .where('chat_room_id', 'in', roomIds)
      .where('is_active', '=', 1)
      .groupBy('chat_room_id')
      .execute();
    return new Map(rows.map((r) => [r.chat_room_id, Number(r.count)]));
  },

  update(db: Db, id: number, patch: Updateable<ChatRoomsTable>): Promise<ChatRoomRow> {
    return db.updateTable('chat_rooms').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  },

  /**
   * The active accounts among `ids` (members to add). `lock` (in a transaction): read with a share
   * lock on their rows on PostgreSQL, so that an account deletion, which writes the row first,
   * either committed before or waits for this transaction and then ends what it added.
   */
  activeUsers(db: Db, ids: number[], opts: { lock?: boolean } = {}): Promise<UserRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const q = db.selectFrom('users').selectAll().where('id', 'in', ids).where('is_active', '=', 1);
    return (opts.lock ? forShare(db, q) : q).execute();
  },

  /** Deletes the room; its memberships and messages go with it (foreign keys cascade). */
  async delete(db: Db, id: number): Promise<void> {
    await db.deleteFrom('chat_rooms').where('id', '=', id).execute();
  },
};
