// Who may see and touch a room, decided in one place for every entry point (REST, seed-0,
// and later the socket handlers). A room the caller cannot see does not exist for them (404).
import type { ChatRoomRow, Db, MembershipRow } from '../../db/schema.js';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { type CallerNames, roomsRepository } from './rooms.repository.js';

export interface RoomAccess {
  room: ChatRoomRow;
  /** The caller's membership row, active or not. */
  membership: MembershipRow | null;
  /** The caller's names, null when their account is no longer active (read in the same statement). */
  caller: CallerNames | null;
}

export type MemberAccess = RoomAccess & { membership: MembershipRow };

export const isPublicGroup = (room: ChatRoomRow) => room.room_type === 'group' && room.is_public === 1;
export const isActiveMember = (a: RoomAccess): a is MemberAccess => a.membership?.is_active === 1;

export const ROOM_NOT_FOUND = 'No such chat room.';
export const NOT_A_MEMBER = 'You are not a member of this chat room.';

/** The room if the user may see it (an active member, or any user for a public group); else 404. */
export async function visibleRoom(db: Db, userId: number, roomId: number): Promise<RoomAccess> {
  const access = await roomsRepository.findWithMembership(db, roomId, userId);
  if (!access || !(isActiveMember(access) || isPublicGroup(access.room))) throw notFound(ROOM_NOT_FOUND);
  return access;
}

/** The room for an active member: 404 when the user cannot see it, 403 for a public group they have not joined. */
export async function memberRoom(db: Db, userId: number, roomId: number): Promise<MemberAccess> {
  const access = await visibleRoom(db, userId, roomId);
  if (!isActiveMember(access)) throw forbidden(NOT_A_MEMBER);
  return access;
}

/** `memberRoom` for a group: private rooms have no roles, no moderation and no invites (400). */
export async function groupRoom(db: Db, userId: number, roomId: number): Promise<MemberAccess> {
  const access = await memberRoom(db, userId, roomId);
  if (access.room.room_type !== 'group') throw badRequest('Private rooms have no roles, no moderation and no invites.', 'not_a_group');
  return access;
}

/** `groupRoom` for its owner or an admin; a plain member → 403 with `what` they may not do. */
export async function moderatedRoom(db: Db, userId: number, roomId: number, what: string): Promise<MemberAccess> {
  const access = await groupRoom(db, userId, roomId);
  if (access.membership.role === 'member') throw forbidden(`Only the owner or an admin can ${what}.`);
  return access;
}
