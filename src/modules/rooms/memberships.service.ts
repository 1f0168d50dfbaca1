import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import type { ChatRoomRow, Db, MembershipRow } from '../../db/schema.js';
import { badRequest, fieldError, notFound, unauthorized } from '../../errors.js';
import { messagesRepository } from '../messages/messages.repository.js';
import { usersRepository } from '../users/users.repository.js';
import { addMember } from './memberships.changes.js';
import { membershipsRepository, type MembershipWithRoom } from './memberships.repository.js';
import { isActiveMember, memberRoom, visibleRoom } from './rooms.access.js';
import { countJoinOrLeave } from './rooms.service.js';
import { roomsRepository } from './rooms.repository.js';
import { membershipView, type MembershipView } from './rooms.view.js';
import { enforceLimit } from '../../lib/rate-limit.js';

export interface MembershipPatch {
  is_read?: boolean;
  last_seen_message?: number;
  is_active?: boolean;
  /** Mute flag (issue 5). */
  is_muted?: boolean;
}

const NO_MEMBERSHIP = 'No such membership.';

/** `/api/user_chats/`: each member's own view of a conversation. */
export class MembershipsService {
  constructor(private readonly ctx: AppContext) {}

  /** The caller's conversations, most recent activity first; hidden ones are left out until a new message arrives. */
  async list(userId: number): Promise<MembershipView[]> {
    const rows = await membershipsRepository.listActiveForUser(this.ctx.db, userId);
    const views = await this.views(this.ctx.db, rows);
    return views.filter((v) => v.is_active).sort((a, b) => (b.last_message?.id ?? 0) - (a.last_message?.id ?? 0) || b.id - a.id);
  }

  async get(userId: number, id: number): Promise<MembershipView> {
    const m = await this.own(userId, id);
    return this.viewOf(this.ctx.db, m);
  }

  /**
   * Adds the caller to a public group, or (as an active member) another user to a room.
   * `created` is false when an inactive or hidden membership was reactivated instead.
   */
  async add(actorId: number, input: { chat_room: number; user?: number }): Promise<{ membership: MembershipView; created: boolean }> {
    const targetId = input.user ?? actorId;
    const self = targetId === actorId;
    if (!self) await enforceLimit(this.ctx.limiter, `adds:${actorId}`, this.ctx.config.rateLimits.addsPerUserPerHour, 3600);
    const access = self ? await visibleRoom(this.ctx.db, actorId, input.chat_room) : await memberRoom(this.ctx.db, actorId, input.chat_room);
    const target = await usersRepository.findActive(this.ctx.db, targetId);
    if (!target) {
      if (self) throw unauthorized();
      throw fieldError('user', `Invalid pk "${targetId}" - object does not exist.`);
    }
    // Adding yourself is joining: counted with POST /api/chat_rooms/{id}/join/ (RATE_LIMIT_JOIN_LEAVE_PER_USER).
    if (self && !isActiveMember(access)) await countJoinOrLeave(this.ctx, actorId);
    const { membership, outcome } = await this.ctx.writer.run(access.room.id, async (uow) => {
      const result = await addMember(uow, { room: access.room, user: target, actorId, now: nowIso() });
      if (result.outcome !== 'existing') return result;
      throw badRequest(self ? 'You are already a member of this chat room.' : 'The user is already a member of this chat room.', 'already_member');
    });
    return { membership: await this.viewOf(this.ctx.db, membership, access.room), created: outcome === 'created' };
  }

  /** Moves the read position (forward only), marks read/unread, hides or shows the conversation. */
  async update(userId: number, id: number, patch: MembershipPatch): Promise<MembershipView> {
    const m = await this.own(userId, id);
    return this.viewOf(this.ctx.db, await this.apply(userId, m, patch));
  }

  /** The socket `read` frame: moves the caller's read position in a room (404 for non-members). */
  async markRead(userId: number, chatRoomId: number, messageId: number): Promise<void> {
    const access = await memberRoom(this.ctx.db, userId, chatRoomId);
    await this.apply(userId, access.membership, { last_seen_message: messageId });
  }

  /** Writes a patch to the caller's own active membership `m`; the updated row. */
  private async apply(userId: number, m: MembershipRow, patch: MembershipPatch): Promise<MembershipRow> {
    const roomId = m.chat_room_id;
    if (patch.last_seen_message !== undefined && !(await messagesRepository.inRoom(this.ctx.db, patch.last_seen_message, roomId))) {
      throw fieldError('last_seen_message', `Invalid pk "${patch.last_seen_message}" - object does not exist.`);
    }
    // A read position that would not move writes nothing (sockets send `read` frames often). It
    // only moves forward, so `m` read before can be behind, never ahead: a stale row just writes.
    const onlyRead = Object.keys(patch).length === 1 && patch.last_seen_message !== undefined;
    if (onlyRead && (m.last_read_message_id ?? 0) >= patch.last_seen_message!) return m;
    const updated = await this.ctx.writer.run(roomId, async (uow) => {
      const trx = uow.trx;
      // The room's newest message matters only to "mark read" and "hide".
      const lastId = patch.is_read === true || patch.is_active === false ? await messagesRepository.lastId(trx, roomId) : null;
      const advance = async (messageId: number) => {
        if (await membershipsRepository.advanceRead(trx, m.id, messageId)) {
          await uow.emit('read', { chatRoomId: roomId, userId, messageId }, { user: userId, message: messageId });
        }
      };
      if (patch.last_seen_message !== undefined) await advance(patch.last_seen_message);
      if (patch.is_read === true && lastId !== null) await advance(lastId);
      const values: Partial<MembershipRow> = {};
      if (patch.is_read !== undefined) values.marked_unread = patch.is_read ? 0 : 1;
      if (patch.is_active !== undefined) values.hidden_at_message_id = patch.is_active ? null : (lastId ?? 0);
      if (patch.is_muted !== undefined) values.is_muted = patch.is_muted ? 1 : 0; // mute flag (issue 5)
      return Object.keys(values).length ? membershipsRepository.update(trx, m.id, values) : membershipsRepository.findById(trx, m.id);
    });
    return updated!;
  }

  /** Hides the conversation from the caller's list until a new message arrives; membership is unchanged. */
  async hide(userId: number, id: number): Promise<void> {
    const m = await this.own(userId, id);
    const lastId = await messagesRepository.lastId(this.ctx.db, m.chat_room_id);
    await membershipsRepository.update(this.ctx.db, m.id, { hidden_at_message_id: lastId ?? 0 });
  }

  /** Online when any other active member is. */
  async status(userId: number, id: number): Promise<'online' | 'offline'> {
    const m = await this.own(userId, id);
    const members = await membershipsRepository.activeMembers(this.ctx.db, m.chat_room_id);
    return members.some((o) => o.user_id !== userId && this.ctx.presence.isOnline(o.user_id)) ? 'online' : 'offline';
  }

  /** The caller's own active membership; anyone else's, or one of a room they left, is 404. */
  private async own(userId: number, id: number): Promise<MembershipRow> {
    const m = await membershipsRepository.findById(this.ctx.db, id);
    if (!m || m.user_id !== userId || m.is_active !== 1) throw notFound(NO_MEMBERSHIP);
    return m;
  }

  private async viewOf(db: Db, m: MembershipRow, room?: ChatRoomRow): Promise<MembershipView> {
    const r = room ?? (await roomsRepository.findById(db, m.chat_room_id));
    if (!r) throw notFound(NO_MEMBERSHIP);
    const [view] = await this.views(db, [{ ...m, room_type: r.room_type, room_name: r.name, is_encrypted: r.is_encrypted }]);
    return view;
  }

  /** Views of one user's memberships, with a constant number of queries. */
  private async views(db: Db, rows: MembershipWithRoom[]): Promise<MembershipView[]> {
    if (rows.length === 0) return [];
    const userId = rows[0].user_id;
    const roomIds = rows.map((r) => r.chat_room_id);
    const [states, others] = await Promise.all([
      membershipsRepository.readStates(db, rows.map((r) => r.id)),
      membershipsRepository.otherMembers(db, roomIds, userId),
    ]);
    const lastIds = [...states.values()].flatMap((s) => (s.lastMessageId === null ? [] : [s.lastMessageId]));
    const lastMessages = new Map((await messagesRepository.findByIds(db, lastIds)).map((x) => [x.id, x]));
    return rows.map((r) => {
      const state = states.get(r.id);
      return membershipView(r, { room_type: r.room_type, name: r.room_name, is_encrypted: r.is_encrypted }, {
        others: others.get(r.chat_room_id) ?? { first: [], total: 0 },
        unread: state?.unread ?? 0,
        lastMessage: lastMessages.get(state?.lastMessageId ?? 0) ?? null,
      });
    });
  }
}
