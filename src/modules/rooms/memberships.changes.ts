// Membership changes shared by rooms, memberships and messages (seed-0 sends join first).
// They run in units of work that hold the room's lock (Writer.run with the room): these
// check-then-write sequences are therefore serialized per room.
import type { ChatRoomRow, Db, MembershipRow } from '../../db/schema.js';
import { badRequest, forbidden } from '../../errors.js';
import type { UnitOfWork } from '../events/unit-of-work.js';
import { messagesRepository } from '../messages/messages.repository.js';
import { bansRepository } from './bans.repository.js';
import { membershipsRepository } from './memberships.repository.js';
import { privateKey, roomsRepository } from './rooms.repository.js';

export type AddOutcome = 'created' | 'reactivated' | 'existing';

export const PRIVATE_IS_TWO = 'A private room has exactly two members.';
export const BANNED = 'This user is banned from this group.';

/**
 * Makes `user` an active member of `room` (a new or a reactivated membership), unread from now on.
 * Every way in (join, being added, an invite, seed 0's send) comes here: a banned user → 403.
 */
export async function addMember(
  uow: UnitOfWork,
  a: { room: ChatRoomRow; user: { id: number; username: string }; actorId: number; role?: 'owner' | 'member'; now: string },
): Promise<{ membership: MembershipRow; outcome: AddOutcome }> {
  const trx = uow.trx;
  const existing = await membershipsRepository.find(trx, a.room.id, a.user.id);
  if (existing?.is_active === 1) return { membership: existing, outcome: 'existing' };
  if (await bansRepository.isBanned(trx, a.room.id, a.user.id)) throw forbidden(BANNED);
  if (a.room.room_type === 'private') await claimPrivatePair(trx, a.room, a.user.id);
  const fresh = {
    role: a.role ?? 'member',
    is_active: 1,
    joined_at: a.now,
    left_at: null,
    last_read_message_id: await messagesRepository.lastId(trx, a.room.id),
    marked_unread: 0,
    hidden_at_message_id: null,
  } as const;
  const membership = existing
    ? await membershipsRepository.update(trx, existing.id, fresh)
    : await membershipsRepository.insert(trx, { chat_room_id: a.room.id, user_id: a.user.id, ...fresh });
  await uow.emit('member_joined', { chatRoomId: a.room.id, userId: a.actorId }, { user: a.user.id, username: a.user.username, by: a.actorId });
  return { membership, outcome: existing ? 'reactivated' : 'created' };
}

/** A private room takes a second member only if that pair has no private room yet. */
async function claimPrivatePair(trx: Db, room: ChatRoomRow, userId: number): Promise<void> {
  const members = await membershipsRepository.activeMembers(trx, room.id);
  if (members.length >= 2) throw badRequest(PRIVATE_IS_TWO, 'private_room_full');
  if (members.length === 0) return;
  const key = privateKey(members[0].user_id, userId);
  const other = await roomsRepository.findByPrivateKey(trx, key);
  if (other) throw badRequest(`A private room with these two users already exists (id ${other.id}).`, 'private_room_exists');
  await roomsRepository.update(trx, room.id, { private_key: key });
}

/**
 * Ends an active membership (`kicked`: removed by an owner or admin; `banned`: and banned). An owner who leaves hands
 * the room to the longest-standing admin, or else the longest-standing member.
 */
export async function removeMember(
  uow: UnitOfWork,
  a: { room: ChatRoomRow; membership: MembershipRow; username: string; actorId: number; now: string; kicked?: boolean; banned?: boolean },
): Promise<void> {
  const trx = uow.trx;
  await membershipsRepository.update(trx, a.membership.id, { is_active: 0, left_at: a.now, role: 'member', hidden_at_message_id: null });
  await uow.emit('member_left', { chatRoomId: a.room.id, userId: a.actorId }, { user: a.membership.user_id, username: a.username, by: a.actorId, ...(a.kicked ? { kicked: true } : {}), ...(a.banned ? { banned: true } : {}) });
  if (a.membership.role === 'owner') {
    const members = await membershipsRepository.activeMembers(trx, a.room.id);
    const heir = members.find((m) => m.role === 'admin') ?? members[0];
    if (!heir) return;
    await membershipsRepository.update(trx, heir.id, { role: 'owner' });
    await uow.emit('member_role_changed', { chatRoomId: a.room.id, userId: a.actorId }, { user: heir.user_id, role: 'owner', by: a.actorId });
  }
}
