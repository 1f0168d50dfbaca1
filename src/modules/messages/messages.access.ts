// A message as its room's active members see it (reactions and attachments check access here).
import type { Db, MessageRow } from '../../db/schema.js';
import { notFound } from '../../errors.js';
import { isActiveMember, type MemberAccess } from '../rooms/rooms.access.js';
import { roomsRepository } from '../rooms/rooms.repository.js';

export const MESSAGE_NOT_FOUND = 'No such message.';

/**
 * The room and membership if `userId` is an active member of `chatRoomId`; otherwise 404 with
 * `notFoundText`, the text for whatever (a message, a reaction, an attachment) was looked up in it.
 */
export async function activeMemberOf(db: Db, userId: number, chatRoomId: number, notFoundText: string): Promise<MemberAccess> {
  const access = await roomsRepository.findWithMembership(db, chatRoomId, userId);
  if (!access || !isActiveMember(access)) throw notFound(notFoundText);
  return access;
}

/**
 * The message if `userId` is an active member of its room; 404 otherwise, exactly as for a missing
 * message (with `notFoundText`, by default the message's own).
 */
export async function memberMessage(db: Db, userId: number, messageId: number, notFoundText = MESSAGE_NOT_FOUND): Promise<{ message: MessageRow } & MemberAccess> {
  const message = await db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirst();
  if (!message) throw notFound(notFoundText);
  return { message, ...(await activeMemberOf(db, userId, message.chat_room_id, notFoundText)) };
}
