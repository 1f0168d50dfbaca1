import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { isUniqueViolation } from '../../db/dialect.js';
import type { Db, MessageRow, ReactionRow } from '../../db/schema.js';
import { fieldError, forbidden, notFound } from '../../errors.js';
import type { UnitOfWork } from '../events/unit-of-work.js';
import { memberMessage } from '../messages/messages.access.js';
import { messagesRepository } from '../messages/messages.repository.js';
import { reactionsRepository } from './reactions.repository.js';
import type { ReactionTypeName } from './reactions.schemas.js';
import { reactionView, type ReactionView } from './reactions.view.js';

const NO_REACTION = 'No such reaction.';
const ALREADY = 'You have already reacted to this message: change that reaction (PATCH) or remove it first.';
const DELETED = 'You cannot react to a deleted message.';

export class ReactionsService {
  constructor(private readonly ctx: AppContext) {}

  /** A deleted message loses its reactions (their notifications go with them). */
  async onMessageDeleted(uow: UnitOfWork, messageId: number): Promise<void> {
    await reactionsRepository.deleteForMessage(uow.trx, messageId);
  }

  /** A message's reactions, oldest first (members of its room; 404 for anyone else). */
  async list(userId: number, messageId: number): Promise<ReactionView[]> {
    await memberMessage(this.ctx.db, userId, messageId);
    return (await reactionsRepository.listForMessage(this.ctx.db, messageId)).map(reactionView);
  }

  async get(userId: number, id: number): Promise<ReactionView> {
    return reactionView((await this.visible(userId, id)).row);
  }

  /** One reaction per user per message (a second → 400); not on a deleted message. */
  async create(userId: number, input: { message: number; reaction_type: ReactionTypeName }): Promise<ReactionView> {
    const room = await messagesRepository.roomOf(this.ctx.db, input.message);
    try {
      const row = await this.ctx.writer.run(room, async (uow) => {
        // Checked under the room's lock: a concurrent delete or reaction has committed by now.
        const message = await this.checkOpen(uow.trx, userId, input.message);
        const now = nowIso();
        const row = await reactionsRepository.insert(uow.trx, { message_id: input.message, user_id: userId, reaction_type: input.reaction_type, created_at: now, updated_at: now });
        await uow.emit('reaction', { chatRoomId: message.chat_room_id, userId, messageId: message.id }, { reaction: reactionView(row), action: 'added' });
        return row;
      });
      return reactionView(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw fieldError('message', ALREADY);
      throw err;
    }
  }

  /** Its author only (403 for other members of the room). Changing to the same type is a no-op. */
  async update(userId: number, id: number, reactionType: ReactionTypeName): Promise<ReactionView> {
    const { row: current, message } = await this.visible(userId, id);
    if (current.user_id !== userId) throw forbidden('Only its author can change this reaction.');
    if (current.reaction_type === reactionType) return reactionView(current);
    const row = await this.ctx.writer.run(message.chat_room_id, async (uow) => {
      await this.stillThere(uow.trx, id);
      const row = await reactionsRepository.update(uow.trx, id, { reaction_type: reactionType, updated_at: nowIso() });
      await uow.emit('reaction', { chatRoomId: message.chat_room_id, userId, messageId: message.id }, { reaction: reactionView(row), action: 'changed' });
      return row;
    });
    return reactionView(row);
  }

  /** Its author only (403 for other members of the room). */
  async remove(userId: number, id: number): Promise<void> {
    const { row: current, message } = await this.visible(userId, id);
    if (current.user_id !== userId) throw forbidden('Only its author can remove this reaction.');
    await this.ctx.writer.run(message.chat_room_id, async (uow) => {
      await this.stillThere(uow.trx, id);
      await reactionsRepository.delete(uow.trx, id);
      await uow.emit('reaction', { chatRoomId: message.chat_room_id, userId, messageId: message.id }, { reaction: reactionView(current), action: 'removed' });
    });
  }

  /** A reaction whose message the user may see, with that message (404 otherwise, as for a missing one). */
  private async visible(userId: number, id: number): Promise<{ row: ReactionRow; message: MessageRow }> {
    const row = await reactionsRepository.findById(this.ctx.db, id);
    if (!row) throw notFound(NO_REACTION);
    const { message } = await memberMessage(this.ctx.db, userId, row.message_id, NO_REACTION);
    return { row, message };
  }

  /** Under the room's lock: a concurrent removal (or message deletion) has committed by now. */
  private async stillThere(trx: Db, id: number): Promise<void> {
    if (!(await reactionsRepository.findById(trx, id))) throw notFound(NO_REACTION);
  }

  /** The message if the user may react to it: 404 unless a member of its room, then 400 if it is deleted or already has their reaction. */
  private async checkOpen(trx: Db, userId: number, messageId: number): Promise<MessageRow> {
    const { message } = await memberMessage(trx, userId, messageId);
    if (message.is_deleted) throw fieldError('message', DELETED);
    const mine = await trx.selectFrom('reactions').select('id').where('message_id', '=', messageId).where('user_id', '=', userId).executeTakeFirst();
    if (mine) throw fieldError('message', ALREADY);
    return message;
  }
}
