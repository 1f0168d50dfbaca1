// A group's members: the paginated list, roles (one owner, admins, members) and removal by the
// owner or an admin. Every decision is made under the room's lock on the memberships as they are.
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import type { MembershipRow, Role } from '../../db/schema.js';
import { badRequest, forbidden, notFound } from '../../errors.js';
import type { UnitOfWork } from '../events/unit-of-work.js';
import { removeMember } from './memberships.changes.js';
import { membershipsRepository } from './memberships.repository.js';
import { groupRoom, memberRoom, moderatedRoom } from './rooms.access.js';

export const MEMBERS_PAGE_SIZE = 20;
const NO_MEMBER = 'No such member in this chat room.';

export class MembersService {
  constructor(private readonly ctx: AppContext) {}

  /** Members only; oldest membership first, 20 a page. */
  async list(userId: number, roomId: number, page: number) {
    await memberRoom(this.ctx.db, userId, roomId);
    const { count, rows } = await membershipsRepository.activeMembersPage(this.ctx.db, roomId, { offset: (page - 1) * MEMBERS_PAGE_SIZE, limit: MEMBERS_PAGE_SIZE });
    const results = rows.map((m) => ({
      user: m.user_id,
      username: m.username,
      role: m.role,
      joined_at: m.joined_at,
      status: this.ctx.presence.isOnline(m.user_id) ? ('online' as const) : ('offline' as const),
      last_seen_message: m.last_read_message_id,
    }));
    return { count, results };
  }

  /** The owner only. `owner` hands the group over: the old owner becomes an admin. */
  async changeRole(actorId: number, roomId: number, targetId: number, role: Role): Promise<{ user: number; role: Role }> {
    return this.ctx.writer.run(roomId, async (uow) => {
      const access = await groupRoom(uow.trx, actorId, roomId);
      if (access.membership.role !== 'owner') throw forbidden('Only the owner can change roles.');
      const target = await this.member(uow, roomId, targetId);
      if (target.user_id === actorId) {
        if (role === 'owner') return { user: actorId, role };
        throw badRequest('A group keeps its owner: make another member the owner first.', 'last_owner');
      }
      if (target.role === role) return { user: targetId, role };
      await this.setRole(uow, target, role, actorId);
      if (role === 'owner') await this.setRole(uow, access.membership, 'admin', actorId);
      return { user: targetId, role };
    });
  }

  /** The owner or an admin; an admin cannot remove the owner or another admin (403). */
  async kick(actorId: number, roomId: number, targetId: number): Promise<void> {
    await this.ctx.writer.run(roomId, async (uow) => {
      const access = await moderatedRoom(uow.trx, actorId, roomId, 'remove members');
      const actorRole = access.membership.role;
      const target = await this.member(uow, roomId, targetId);
      if (target.user_id === actorId) throw badRequest('To leave the group, use POST /api/chat_rooms/{id}/leave/.', 'self');
      if (target.role === 'owner' || (actorRole === 'admin' && target.role === 'admin')) throw forbidden('An admin cannot remove the owner or another admin.');
      await removeMember(uow, { room: access.room, membership: target, username: target.username, actorId, now: nowIso(), kicked: true });
    });
  }

  /** The active membership of `userId` in the room, or 404. */
  private async member(uow: UnitOfWork, roomId: number, userId: number): Promise<MembershipRow & { username: string }> {
    const m = await membershipsRepository.activeMember(uow.trx, roomId, userId);
    if (!m) throw notFound(NO_MEMBER);
    return m;
  }

  private async setRole(uow: UnitOfWork, m: MembershipRow, role: Role, by: number): Promise<void> {
    await membershipsRepository.update(uow.trx, m.id, { role });
    await uow.emit('member_role_changed', { chatRoomId: m.chat_room_id, userId: by }, { user: m.user_id, role, by });
  }
}
