// Bans: the owner or an admin removes a user from a group and keeps them out (no join, no
// re-add, no invite: `addMember` refuses them) until the ban is lifted. Decided under the room's lock.
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { badRequest, fieldError, forbidden, notFound } from '../../errors.js';
import { bansRepository, type BanWithNames } from './bans.repository.js';
import { removeMember } from './memberships.changes.js';
import { membershipsRepository } from './memberships.repository.js';
import { moderatedRoom } from './rooms.access.js';

export const BANS_PAGE_SIZE = 20;

export interface BanView {
  user: number;
  username: string;
  reason: string;
  banned_by: number | null;
  banned_by_username: string | null;
  created_at: string;
}

const banView = (b: BanWithNames): BanView => ({
  user: b.user_id,
  username: b.username,
  reason: b.reason,
  banned_by: b.banned_by,
  banned_by_username: b.banned_by_username,
  created_at: b.created_at,
});

export class BansService {
  constructor(private readonly ctx: AppContext) {}

  /**
   * Bans `userId` (a member, who is removed, or anyone else, who then cannot come in). Banning
   * yourself or the owner → 400; an admin banning another admin → 403. Banning again updates the reason.
   */
  async ban(actorId: number, roomId: number, userId: number, reason: string): Promise<BanView> {
    return this.ctx.writer.run(roomId, async (uow) => {
      const { room, membership: actor } = await moderatedRoom(uow.trx, actorId, roomId, 'ban users');
      const target = await bansRepository.account(uow.trx, userId);
      if (!target) throw fieldError('user', `Invalid pk "${userId}" - object does not exist.`);
      if (userId === actorId) throw badRequest('You cannot ban yourself: leave the group instead.', 'self');
      const member = await membershipsRepository.activeMember(uow.trx, roomId, userId);
      if (member?.role === 'owner') throw badRequest('The owner cannot be banned.', 'owner');
      if (member?.role === 'admin' && actor.role !== 'owner') throw forbidden('An admin cannot ban another admin.');
      const now = nowIso();
      if (member) await removeMember(uow, { room, membership: member, username: member.username, actorId, now, kicked: true, banned: true });
      await bansRepository.upsert(uow.trx, { chat_room_id: roomId, user_id: userId, banned_by: actorId, reason, created_at: now });
      await uow.emit('member_banned', { chatRoomId: roomId, userId: actorId, room }, { user: userId, username: target.username, by: actorId, reason });
      const by = await bansRepository.account(uow.trx, actorId);
      return { user: userId, username: target.username, reason, banned_by: actorId, banned_by_username: by?.username ?? null, created_at: now };
    });
  }

  /** Lifts a ban (owner or admin); 404 when the user is not banned. They may then join or be added again. */
  async unban(actorId: number, roomId: number, userId: number): Promise<void> {
    await this.ctx.writer.run(roomId, async (uow) => {
      const { room } = await moderatedRoom(uow.trx, actorId, roomId, 'lift bans');
      const target = await bansRepository.account(uow.trx, userId);
      if (!target || !(await bansRepository.remove(uow.trx, roomId, userId))) throw notFound('This user is not banned from this group.');
      await uow.emit('member_unbanned', { chatRoomId: roomId, userId: actorId, room }, { user: userId, username: target.username, by: actorId });
    });
  }

  /** The owner or an admin: the group's bans, newest first, 20 a page. */
  async list(actorId: number, roomId: number, page: number): Promise<{ count: number; results: BanView[] }> {
    await moderatedRoom(this.ctx.db, actorId, roomId, 'see the bans');
    const { count, rows } = await bansRepository.page(this.ctx.db, roomId, { offset: (page - 1) * BANS_PAGE_SIZE, limit: BANS_PAGE_SIZE });
    return { count, results: rows.map(banView) };
  }
}
