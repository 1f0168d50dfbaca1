// Membership changes shared by rooms, memberships and messages (seed-0 sends join first).
// They run in units of work that hold the room's lock (Writer.run with the room): these
// check-then-write sequences are therefore serialized per room.
import { forShare } from '../../db/dialect.js';
import type { ChatRoomRow, Db, MembershipRow } from '../../db/schema.js';
import { badRequest, fieldError, forbidden, unauthorized } from '../../errors.js';
import type { UnitOfWork } from '../events/unit-of-work.js';
import { messagesRepository } from '../messages/messages.repository.js';
import { bansRepository } from './bans.repository.js';
import { membershipsRepository } from './memberships.repository.js';
import { privateKey, roomsRepository } from './rooms.repository.js';

/** `shown`: already a member, who came in again themselves and had hidden the conversation: it shows again. */
export type AddOutcome = 'created' | 'reactivated' | 'shown' | 'existing';

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
  if (existing?.is_active === 1) {
    if (a.user.id !== a.actorId || existing.hidden_at_message_id === null) return { membership: existing, outcome: 'existing' };
    return { membership: await membershipsRepository.update(trx, existing.id, { hidden_at_message_id: null }), outcome: 'shown' };
  }
  if (!(await activeAccount(trx, a.user.id))) {
    throw a.user.id === a.actorId ? unauthorized() : fieldError('user', `Invalid pk "${a.user.id}" - object does not exist.`);
  }
  if (await bansRepository.isBanned(trx, a.room.id, a.user.id)) throw forbidden(a.user.id === a.actorId ? 'You are banned from this group.' : BANNED);
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

/**
 * Is the account still active? Read with a share lock on its row (PostgreSQL): an account deletion
 * (which writes the row first, then ends its memberships) either committed before, and the account
 * is refused, or waits for this change to commit, and then ends the membership made here.
 */
async function activeAccount(trx: Db, userId: number): Promise<boolean> {
  const q = trx.selectFrom('users').select('id').where('id', '=', userId).where('is_active', '=', 1);
  return (await forShare(trx, q).executeTakeFirst()) !== undefined;
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
 * a group to the longest-standing admin, or else the longest-standing member (active members only, so
 * never to a deleted account); a private room has no roles and simply loses the member.
 */
export async function removeMember(
  uow: UnitOfWork,
  a: { room: ChatRoomRow; membership: MembershipRow; username: string; actorId: number; now: string; kicked?: boolean; banned?: boolean },
): Promise<void> {
  const trx = uow.trx;
  await membershipsRepository.update(trx, a.membership.id, { is_active: 0, left_at: a.now, role: 'member', hidden_at_message_id: null });
  await uow.emit('member_left', { chatRoomId: a.room.id, userId: a.actorId }, { user: a.membership.user_id, username: a.username, by: a.actorId, ...(a.kicked ? { kicked: true } : {}), ...(a.banned ? { banned: true } : {}) });
  if (a.membership.role === 'owner' && a.room.room_type === 'group') {
    // Never a deactivated account (it could not manage the group): the longest-standing admin, else member, who can log in.
    const members = (await membershipsRepository.activeMembers(trx, a.room.id)).filter((m) => m.account_active === 1);
    const heir = members.find((m) => m.role === 'admin') ?? members[0];
    if (!heir) return;
    await membershipsRepository.update(trx, heir.id, { role: 'owner' });
    await uow.emit('member_role_changed', { chatRoomId: a.room.id, userId: a.actorId }, { user: heir.user_id, role: 'owner', by: a.actorId });
  }
}

/** endMemberships found active memberships in rooms the unit of work has not locked (joined since they were listed). */
export class MembershipsMoved extends Error {
  constructor(readonly rooms: number[]) {
    super('memberships in rooms not locked');
  }
}

/**
 * Ends every active membership of an account being deleted, as leaving does (removeMember: a
 * `member_left` each, a group's ownership handed on). The unit of work must hold the locks of the
 * `locked` rooms, and have written the account's row first (so no join can slip in after this
 * reads them: see activeAccount). A membership in any other room → MembershipsMoved: run again
 * with its room locked too.
 */
export async function endMemberships(uow: UnitOfWork, a: { userId: number; username: string; locked: number[]; now: string }): Promise<void> {
  const trx = uow.trx;
  const memberships = await membershipsRepository.listActiveForUser(trx, a.userId);
  const elsewhere = memberships.map((m) => m.chat_room_id).filter((id) => !a.locked.includes(id));
  if (elsewhere.length) throw new MembershipsMoved(elsewhere);
  for (const m of memberships) {
    const room = await roomsRepository.findById(trx, m.chat_room_id);
    if (room) await removeMember(uow, { room, membership: m, username: a.username, actorId: a.userId, now: a.now });
  }
}
