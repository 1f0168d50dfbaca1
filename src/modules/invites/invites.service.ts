// Invite codes to a group: made, listed and revoked by its owner and admins; anyone logged in who
// holds a usable code sees which group it opens and joins it. Joining and counting the use happen
// in one unit of work under the room's lock, so `max_uses` holds under concurrent accepts.
import crypto from 'node:crypto';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import type { Db } from '../../db/schema.js';
import { notFound } from '../../errors.js';
import { callerAccount } from '../users/users.access.js';
import { addMember } from '../rooms/memberships.changes.js';
import type { MembershipsService } from '../rooms/memberships.service.js';
import { moderatedRoom } from '../rooms/rooms.access.js';
import { roomsRepository } from '../rooms/rooms.repository.js';
import type { MembershipView } from '../rooms/rooms.view.js';
import { invitesRepository } from './invites.repository.js';
import { CODE_LENGTH } from './invites.schemas.js';
import { inviteView, type InviteView } from './invites.view.js';

export const INVITES_PAGE_SIZE = 20;
const NO_INVITE = 'No such invite, or it has expired, been used up or been revoked.';

/** An unguessable, URL-safe code: 12 random bytes (96 bits) in base64url. */
export const newInviteCode = () => crypto.randomBytes((CODE_LENGTH * 3) / 4).toString('base64url');

export class InvitesService {
  constructor(
    private readonly ctx: AppContext,
    /** Gives the accepted membership exactly as /api/user_chats/ shows it. */
    private readonly memberships: MembershipsService,
  ) {}

  /** The owner or an admin of a group. */
  async create(userId: number, roomId: number, input: { max_uses?: number | null; expires_in?: number | null }): Promise<InviteView> {
    return this.ctx.writer.run(roomId, async (uow) => {
      await moderatedRoom(uow.trx, userId, roomId, 'manage invites');
      const now = new Date();
      const row = await invitesRepository.insert(uow.trx, {
        chat_room_id: roomId,
        code: newInviteCode(),
        created_by: userId,
        max_uses: input.max_uses ?? null,
        expires_at: input.expires_in == null ? null : new Date(now.getTime() + input.expires_in * 1000).toISOString(),
        created_at: now.toISOString(),
      });
      return inviteView(row);
    });
  }

  /** The owner or an admin: the room's invites that can still be used, newest first. */
  async list(userId: number, roomId: number, page: number): Promise<{ count: number; results: InviteView[] }> {
    await moderatedRoom(this.ctx.db, userId, roomId, 'manage invites');
    const { count, rows } = await invitesRepository.usablePage(this.ctx.db, roomId, nowIso(), { offset: (page - 1) * INVITES_PAGE_SIZE, limit: INVITES_PAGE_SIZE });
    return { count, results: rows.map(inviteView) };
  }

  /** The owner or an admin; a code that is not a usable invite of this room → 404. */
  async revoke(userId: number, roomId: number, code: string): Promise<void> {
    await this.ctx.writer.run(roomId, async (uow) => {
      await moderatedRoom(uow.trx, userId, roomId, 'manage invites');
      if (!(await invitesRepository.revoke(uow.trx, roomId, code, nowIso()))) throw notFound(NO_INVITE);
    });
  }

  /** Which group a usable code opens; any logged-in user. */
  async preview(code: string): Promise<{ chat_room: { id: number; name: string; member_count: number }; expires_at: string | null }> {
    const invite = await this.usable(this.ctx.db, code);
    const room = await roomsRepository.findById(this.ctx.db, invite.chat_room_id);
    if (!room) throw notFound(NO_INVITE);
    const counts = await roomsRepository.memberCounts(this.ctx.db, [room.id]);
    return { chat_room: { id: room.id, name: room.name, member_count: counts.get(room.id) ?? 0 }, expires_at: invite.expires_at };
  }

  /**
   * Joins the caller to the invite's group and counts the use, in one unit of work under the room's
   * lock (the invite is read again there). Already an active member: the membership, no use counted
   * (a hidden conversation is shown again, as when joining). A banned user → 403 (addMember).
   */
  async accept(userId: number, code: string): Promise<MembershipView> {
    const { chat_room_id: roomId } = await this.usable(this.ctx.db, code);
    const me = await callerAccount(this.ctx.db, userId);
    const membership = await this.ctx.writer.run(roomId, async (uow) => {
      const now = nowIso();
      const invite = await this.usable(uow.trx, code, now);
      const room = await roomsRepository.findById(uow.trx, invite.chat_room_id);
      if (!room || room.room_type !== 'group') throw notFound(NO_INVITE);
      const { membership: m, outcome } = await addMember(uow, { room, user: me, actorId: userId, now });
      if (outcome === 'existing' || outcome === 'shown') return m;
      // Cannot fail under the room's lock after the read above; if it did, the join is rolled back with it.
      if (!(await invitesRepository.countUse(uow.trx, invite.id, now))) throw notFound(NO_INVITE);
      return m;
    });
    return this.memberships.get(userId, membership.id);
  }

  private async usable(db: Db, code: string, now = nowIso()) {
    const invite = await invitesRepository.findUsable(db, code, now);
    if (!invite) throw notFound(NO_INVITE);
    return invite;
  }
}
