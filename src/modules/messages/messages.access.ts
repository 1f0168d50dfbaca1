// A message as its room's active members see it (reactions and attachments check access here).
import type { ChatRoomRow, Db, MembershipRow, MessageRow } from '../../db/schema.js';
import { notFound } from '../../errors.js';
import { isActiveMember } from '../rooms/rooms.access.js';
import { roomsRepository } from '../rooms/rooms.repository.js';

export const MESSAGE_NOT_FOUND = 'No such message.';

/** The message if `userId` is an active member of its room; 404 otherwise, exactly as for a missing message. */
export async function memberMessage(db: Db, userId: number, messageId: number): Promise<{ message: MessageRow; room: ChatRoomRow; membership: MembershipRow }> {
  const message = await db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirst();
  const access = message && (await roomsRepository.findWithMembership(db, message.chat_room_id, userId));
  if (!message || !access || !isActiveMember(access)) throw notFound(MESSAGE_NOT_FOUND);
  return { message, room: access.room, membership: access.membership };
}
