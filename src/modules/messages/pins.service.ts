// Pins: any member of a private conversation, or the owner or an admin of a group, pins a message
// for everyone in the room. Decided under the room's lock; a deleted message loses its pin.
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { memberRoom } from '../rooms/rooms.access.js';
import { memberMessage, MESSAGE_NOT_FOUND } from './messages.access.js';
import { messagesRepository } from './messages.repository.js';
import { messageView, type MessageView } from './messages.view.js';

export const MAX_PINS_PER_ROOM = 100;

export class PinsService {
  constructor(private readonly ctx: AppContext) {}

  /** Pins (`pinned`) or unpins a message; doing what is already done changes nothing and sends no event. */
  async set(userId: number, id: number, pinned: boolean): Promise<MessageView> {
    const roomId = await messagesRepository.roomOf(this.ctx.db, id);
    if (roomId === null) throw notFound(MESSAGE_NOT_FOUND);
    return this.ctx.writer.run(roomId, async (uow) => {
      const { message, room, membership } = await memberMessage(uow.trx, userId, id);
      if (room.room_type === 'group' && membership.role === 'member') throw forbidden('Only the owner or an admin can pin messages in a group.');
      if ((message.pinned_at !== null) === pinned) return messageView((await messagesRepository.findById(uow.trx, id))!);
      if (pinned && message.is_deleted) throw badRequest('A deleted message cannot be pinned.', 'message_deleted');
      if (pinned && (await messagesRepository.pinCount(uow.trx, roomId)) >= MAX_PINS_PER_ROOM) {
        throw badRequest(`A room keeps at most ${MAX_PINS_PER_ROOM} pins: unpin one first.`, 'too_many_pins');
      }
      await messagesRepository.update(uow.trx, id, pinned ? { pinned_at: nowIso(), pinned_by_id: userId } : { pinned_at: null, pinned_by_id: null });
      const view = messageView((await messagesRepository.findById(uow.trx, id))!);
      await uow.emit(pinned ? 'message_pinned' : 'message_unpinned', { chatRoomId: roomId, userId, messageId: id }, { message: view });
      return view;
    });
  }

  /** Members only: the room's pinned messages, newest pin first. */
  async list(userId: number, roomId: number): Promise<MessageView[]> {
    await memberRoom(this.ctx.db, userId, roomId);
    return (await messagesRepository.pinned(this.ctx.db, roomId)).map(messageView);
  }
}
