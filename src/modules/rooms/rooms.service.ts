import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { isUniqueViolation } from '../../db/dialect.js';
import type { ChatRoomRow, Db, UserRow } from '../../db/schema.js';
import { badRequest, fieldError, forbidden } from '../../errors.js';
import { displayText } from '../../lib/display-text.js';
import { enforceLimit } from '../../lib/rate-limit.js';
import { eventLog } from '../events/event-log.js';
import { messagesRepository } from '../messages/messages.repository.js';
import { callerAccount } from '../users/users.access.js';
import { membershipsRepository } from './memberships.repository.js';
import { addMember, PRIVATE_IS_TWO, removeMember } from './memberships.changes.js';
import { isActiveMember, isPublicGroup, memberRoom, NOT_A_MEMBER, visibleRoom } from './rooms.access.js';
import { privateKey, roomsRepository } from './rooms.repository.js';
import { roomView, type RoomView } from './rooms.view.js';

export const ROOMS_PAGE_SIZE = 20;

export interface CreateRoomInput {
  room_type: 'private' | 'group';
  name?: string;
  is_public?: boolean;
  members?: number[];
  is_encrypted?: boolean;
}

export interface RoomPatch {
  name?: string;
  is_public?: boolean;
  room_type?: 'private' | 'group';
  is_encrypted?: boolean;
}

export const PRIVATE_WITH_HISTORY = 'A private conversation with messages cannot become a group (its history would show to everyone added): start a group instead.';

/**
 * Counts one join or leave of a group by `userId` (their own, not an add or removal by someone
 * else): 429 with Retry-After beyond RATE_LIMIT_JOIN_LEAVE_PER_USER a minute (0 = off), so nobody
 * can flood a group with joins and leaves. Called before the change, when it would be one.
 */
export function countJoinOrLeave(ctx: AppContext, userId: number): Promise<void> {
  return enforceLimit(ctx.limiter, `join-leave:${userId}`, ctx.config.rateLimits.joinLeavePerUserPerMin, 60);
}

export class RoomsService {
  constructor(private readonly ctx: AppContext) {}

  /** `created` is false when the private room of this pair already existed (it is returned instead). */
  async create(userId: number, input: CreateRoomInput): Promise<{ room: RoomView; created: boolean }> {
    const limits = this.ctx.config.rateLimits;
    await enforceLimit(this.ctx.limiter, `rooms:${userId}`, limits.roomsPerUserPerHour, 3600);
    const me = await callerAccount(this.ctx.db, userId);
    // Checked here so that an unknown member is refused before the adds limit is charged; checked
    // again, locked, in the transaction.
    const others = await this.memberUsers(this.ctx.db, userId, input.members ?? []);
    // Nobody fills a group, or many people's conversation lists, with strangers faster than this.
    await enforceLimit(this.ctx.limiter, `adds:${userId}`, limits.addsPerUserPerHour, 3600, others.length);
    const isPrivate = input.room_type === 'private';
    if (isPrivate && others.length > 1) throw fieldError('members', PRIVATE_IS_TWO);
    if (isPrivate && input.name) throw fieldError('name', 'A private room has no name.');
    const key = isPrivate && others.length === 1 ? privateKey(userId, others[0].id) : null;
    const run = () =>
      this.ctx.writer.run(null, async (uow) => {
        const trx = uow.trx;
        if (key) {
          const existing = await roomsRepository.findByPrivateKey(trx, key);
          // Asked for encryption, the pair's room is never handed back unencrypted (a silent downgrade):
          // it is turned on, as any member of a private room may.
          if (existing && input.is_encrypted && existing.is_encrypted !== 1) {
            const room = await roomsRepository.update(trx, existing.id, { is_encrypted: 1, updated_at: nowIso() });
            const [count] = (await roomsRepository.memberCounts(trx, [room.id])).values();
            await uow.emit('room_updated', { chatRoomId: room.id, userId }, { room: roomView(room, count ?? 0) });
            return { room, created: false };
          }
          if (existing) return { room: existing, created: false };
        }
        // Checked again here, locked: an account deleted since the check above is refused, never added.
        await this.memberUsers(trx, userId, others.map((u) => u.id), { lock: true });
        const now = nowIso();
        const room = await roomsRepository.insert(trx, {
          room_type: input.room_type,
          name: isPrivate ? '' : displayText(input.name ?? ''),
          is_public: isPrivate ? 0 : input.is_public === false ? 0 : 1,
          is_encrypted: input.is_encrypted ? 1 : 0,
          created_by: userId,
          private_key: key,
          created_at: now,
          updated_at: now,
        });
        const members = [me, ...others];
        await membershipsRepository.insertMany(
          trx,
          members.map((u, i) => ({ chat_room_id: room.id, user_id: u.id, role: i === 0 ? 'owner' : 'member', is_active: 1, joined_at: now })),
        );
        const ids = members.map((u) => u.id);
        await uow.emit('room_created', { chatRoomId: room.id, userId, room }, { room: roomView(room, ids.length), members: ids });
        return { room, created: true };
      });
    let result: { room: ChatRoomRow; created: boolean };
    try {
      result = await run();
    } catch (err) {
      // Two creations of the same pair raced (no lock covers a room that does not exist yet): take the one that committed.
      if (!(key && isUniqueViolation(err))) throw err;
      result = await run();
    }
    return { room: await this.view(result.room), created: result.created };
  }

  async list(userId: number, page: number): Promise<{ count: number; results: RoomView[] }> {
    return this.listPage(userId, page, ROOMS_PAGE_SIZE);
  }

  async listPage(userId: number, page: number, pageSize: number): Promise<{ count: number; results: RoomView[] }> {
    const { count, rows } = await roomsRepository.listVisible(this.ctx.db, userId, { offset: (page - 1) * pageSize, limit: pageSize });
    const counts = await roomsRepository.memberCounts(this.ctx.db, rows.map((r) => r.id));
    return { count, results: rows.map((r) => roomView(r, counts.get(r.id) ?? 0)) };
  }

  async get(userId: number, roomId: number): Promise<RoomView> {
    return this.view((await visibleRoom(this.ctx.db, userId, roomId)).room);
  }

  /**
   * Members rename a group, or make a private room without messages a group; only the owner
   * changes `is_public` or turns `is_encrypted` on (any member of a private room may), which can
   * never be turned off. Decided under the room's lock, on the membership as it is then.
   */
  async update(userId: number, roomId: number, patch: RoomPatch): Promise<RoomView> {
    return this.ctx.writer.run(roomId, async (uow) => {
      const { room, membership } = await memberRoom(uow.trx, userId, roomId);
      const toType = patch.room_type ?? room.room_type;
      if (room.room_type === 'group' && toType === 'private') throw fieldError('room_type', 'A group cannot become a private room.');
      if (toType === 'private' && patch.name) throw fieldError('name', 'A private room has no name.');
      // A conversation's history belongs to its two people: a group made of it would show it to everyone added later.
      if (room.room_type === 'private' && toType === 'group' && (await messagesRepository.lastId(uow.trx, roomId)) !== null) {
        throw fieldError('room_type', PRIVATE_WITH_HISTORY);
      }
      if (patch.is_public !== undefined) {
        if (toType === 'private' && patch.is_public) throw fieldError('is_public', 'A private room cannot be public.');
        if (membership.role !== 'owner') throw forbidden('Only the owner can change who may join.');
      }
      if (patch.is_encrypted !== undefined) {
        // One way: turning it off would let anyone with the server's help read what follows.
        if (!patch.is_encrypted && room.is_encrypted === 1) throw fieldError('is_encrypted', 'End-to-end encryption cannot be turned off once it is on.');
        if (toType === 'group' && membership.role !== 'owner') throw forbidden("Only the group's owner can turn on end-to-end encryption.");
      }
      const values: Partial<ChatRoomRow> = {};
      if (toType !== room.room_type) Object.assign(values, { room_type: toType, private_key: null });
      const name = patch.name === undefined ? undefined : displayText(patch.name);
      if (name !== undefined && name !== room.name) values.name = name;
      if (patch.is_public !== undefined && Number(patch.is_public) !== room.is_public) values.is_public = patch.is_public ? 1 : 0;
      if (patch.is_encrypted && room.is_encrypted !== 1) values.is_encrypted = 1;
      const row = Object.keys(values).length ? await roomsRepository.update(uow.trx, roomId, { ...values, updated_at: nowIso() }) : room;
      const [count] = (await roomsRepository.memberCounts(uow.trx, [roomId])).values();
      const view = roomView(row, count ?? 0);
      if (row !== room) await uow.emit('room_updated', { chatRoomId: roomId, userId }, { room: view });
      return view;
    });
  }

  /** Owner only. The room, its memberships, messages and earlier events are deleted; one room_deleted event remains. */
  async remove(userId: number, roomId: number): Promise<void> {
    await this.ctx.writer.run(roomId, async (uow) => {
      const { membership } = await memberRoom(uow.trx, userId, roomId);
      if (membership.role !== 'owner') throw forbidden('Only the owner can delete this chat room.');
      const members = (await membershipsRepository.activeMembers(uow.trx, roomId)).map((m) => m.user_id);
      // Emitted first: its handlers clean up (files of its messages) while the room's rows still exist.
      await uow.emit('room_deleted', { chatRoomId: roomId, userId }, { members, by: userId });
      await eventLog.deleteForRoom(uow.trx, roomId);
      await roomsRepository.delete(uow.trx, roomId);
    });
    this.ctx.log.info({ roomId, userId }, 'chat room deleted');
  }

  /**
   * Public groups only; joining again is a no-op (and shows a hidden conversation again). A join
   * is counted by countJoinOrLeave unless the caller already is a member.
   */
  async join(userId: number, roomId: number): Promise<RoomView> {
    const access = await visibleRoom(this.ctx.db, userId, roomId);
    const { room } = access;
    if (!isPublicGroup(room)) throw badRequest('Only public groups can be joined.', 'not_joinable');
    const me = await callerAccount(this.ctx.db, userId);
    if (!isActiveMember(access)) await countJoinOrLeave(this.ctx, userId);
    await this.ctx.writer.run(roomId, async (uow) => {
      await addMember(uow, { room, user: me, actorId: userId, now: nowIso() });
    });
    // Joining a public group changes its member count, not the room row.
    return this.view(room);
  }

  /**
   * Read under the room's lock: of two leaves at once, one leaves and the other is told it is no
   * member. Counted by countJoinOrLeave when the caller is a member (read before the change).
   */
  async leave(userId: number, roomId: number): Promise<void> {
    const me = await callerAccount(this.ctx.db, userId);
    const before = await visibleRoom(this.ctx.db, userId, roomId);
    if (isActiveMember(before) && before.room.room_type === 'group') await countJoinOrLeave(this.ctx, userId);
    await this.ctx.writer.run(roomId, async (uow) => {
      const access = await visibleRoom(uow.trx, userId, roomId);
      if (!isActiveMember(access)) throw badRequest(NOT_A_MEMBER, 'not_a_member');
      if (access.room.room_type !== 'group') throw badRequest('Only groups can be left.', 'not_leavable');
      await removeMember(uow, { room: access.room, membership: access.membership, username: me.username, actorId: userId, now: nowIso() });
    });
  }

  private async view(room: ChatRoomRow): Promise<RoomView> {
    const counts = await roomsRepository.memberCounts(this.ctx.db, [room.id]);
    return roomView(room, counts.get(room.id) ?? 0);
  }

  /** The distinct other users to add; every one must be an active account. */
  private async memberUsers(db: Db, userId: number, ids: number[], opts: { lock?: boolean } = {}): Promise<UserRow[]> {
    const unique = [...new Set(ids)].filter((id) => id !== userId);
    const users = await roomsRepository.activeUsers(db, unique, opts);
    const found = new Map(users.map((u) => [u.id, u]));
    const missing = unique.find((id) => !found.has(id));
    if (missing !== undefined) throw fieldError('members', `Invalid pk "${missing}" - object does not exist.`);
    return unique.map((id) => found.get(id)!);
  }
}
