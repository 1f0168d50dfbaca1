import { enforceLimit } from '../../lib/rate-limit.js';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { isUniqueViolation, THREAD_ROOT_IS_REPLY, THREAD_ROOT_NOT_IN_ROOM, threadRootRefusal } from '../../db/dialect.js';
import type { ChatRoomRow, Db, MessageRow } from '../../db/schema.js';
import { badRequest, conflict, fieldError, forbidden, notFound, tooLarge, unauthorized } from '../../errors.js';
import type { AheadStep, UnitOfWork } from '../events/unit-of-work.js';
import { addMember } from '../rooms/memberships.changes.js';
import { isActiveMember, memberRoom, visibleRoom } from '../rooms/rooms.access.js';
import type { CallerNames } from '../rooms/rooms.repository.js';
import { activeMemberOf, MESSAGE_NOT_FOUND } from './messages.access.js';
import { LargeRooms } from './large-rooms.js';
import { mentionedNames } from './mentions.js';
import { messagesRepository, type Listing, type MemberSend, type MemberSent } from './messages.repository.js';
import { messageView, type MessageRecord, type MessageView } from './messages.view.js';

export interface SendInput {
  chat_room: number;
  content: string;
  public_key?: string | null;
  reply_to?: number | null;
  client_id?: string;
  mentions?: number[];
  thread?: number | null;
}

export interface EditInput {
  content?: string;
  public_key?: string | null;
}

export interface HistoryInput {
  chat_room?: number;
  thread?: number;
  before?: number;
  after?: number;
  limit?: number;
}

export interface HistoryPage {
  results: MessageView[];
  /** `before` cursor for older messages, or null. */
  older: number | null;
  /** `after` cursor for newer messages, or null. */
  newer: number | null;
}

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 100;

// A lone UTF-16 surrogate cannot be stored as UTF-8, so it would not come back byte for byte.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class MessagesService {
  private readonly largeRooms: LargeRooms;

  constructor(private readonly ctx: AppContext) {
    this.largeRooms = new LargeRooms(ctx.db, ctx.config.largeRoomMembers);
  }

  /**
   * Sends as `userId` (never a sender from the body). `created` is false when `client_id`
   * repeats one of the sender's earlier messages: that message is returned, nothing is stored.
   * `joinPublicGroup` (seed 0) joins a public group first instead of refusing a non-member.
   */
  async send(userId: number, input: SendInput, opts: { joinPublicGroup?: boolean } = {}): Promise<{ message: MessageView; created: boolean }> {
    const limits = this.ctx.config.rateLimits;
    await enforceLimit(this.ctx.limiter, `messages:${userId}`, limits.messagesPerUserPerMin, 60);
    if (limits.messagesPerUserPerMinLargeRoom > 0 && (await this.largeRooms.isLarge(input.chat_room))) {
      await enforceLimit(this.ctx.limiter, `messages:${userId}:${input.chat_room}`, limits.messagesPerUserPerMinLargeRoom, 60);
    }
    this.checkContent(input.content);
    const now = nowIso();
    const sent = {
      chat_room_id: input.chat_room,
      sender_id: userId,
      client_id: input.client_id ?? null,
      content: input.content,
      public_key: input.public_key ?? null,
      reply_to_id: input.reply_to ?? null,
      thread_root_id: input.thread ?? null,
      created_at: now,
      updated_at: now,
    };
    const ids = input.mentions ?? [];
    const names = mentionedNames(input.content);
    // Checked in the sending transaction, under the room's lock: no membership change can commit in between.
    const stepByStep = async (uow: UnitOfWork): Promise<{ message: MessageView; created: boolean }> => {
      const trx = uow.trx;
      const access = opts.joinPublicGroup
        ? await visibleRoom(trx, userId, input.chat_room)
        : await memberRoom(trx, userId, input.chat_room);
      if (input.client_id !== undefined) {
        const first = await this.replay(trx, userId, input.chat_room, input.client_id);
        if (first) return { message: first, created: false };
      }
      // The caller's account, read with the room: a token outliving its account is 401.
      const sender = access.caller;
      if (!sender) throw unauthorized();
      if (!isActiveMember(access)) await addMember(uow, { room: access.room, user: sender, actorId: userId, now });
      if (input.reply_to != null && !(await messagesRepository.inRoom(trx, input.reply_to, input.chat_room))) {
        throw fieldError('reply_to', 'The message replied to must be in the same chat room.');
      }
      // `@name` in an encrypted room's content would be ciphertext: there, only `mentions` counts.
      const row = await messagesRepository.insert(trx, sent, { ids, names: access.room.is_encrypted ? [] : names }).catch(refused);
      return this.announce(uow, row, sender, access.room);
    };
    try {
      if (opts.joinPublicGroup) return await this.ctx.writer.run(input.chat_room, stepByStep);
      // PostgreSQL: when every check would pass, the send is checked and inserted by one
      // statement shared with the transaction's other sends (see checkedSends). Otherwise, step by step.
      return await this.ctx.writer.runAhead(input.chat_room, checkedSends, { message: sent, mentions: { ids, names } }, (uow, fast) =>
        fast ? this.announce(uow, fast.row, fast.caller, fast.room) : stepByStep(uow),
      );
    } catch (err) {
      // The same client_id raced in concurrently and committed first: that one is the message.
      if (input.client_id === undefined || !isUniqueViolation(err)) throw err;
      const first = await this.replay(this.ctx.db, userId, input.chat_room, input.client_id);
      if (!first) throw err;
      return { message: first, created: false };
    }
  }

  /** A sent message's events: `new_message`, and for a thread reply its root's `message_updated`. */
  private async announce(uow: UnitOfWork, row: MessageRow, sender: CallerNames, room: ChatRoomRow): Promise<{ message: MessageView; created: true }> {
    const message = messageView(withNames(row, sender));
    await uow.emit('new_message', { chatRoomId: row.chat_room_id, userId: row.sender_id, messageId: row.id, room }, { message });
    if (row.thread_root_id != null) {
      // Its root's summary changed: the event leaves the root to be read when it is sent
      // (once for all the replies a batch of events carries).
      await uow.emit('message_updated', { chatRoomId: row.chat_room_id, userId: row.sender_id, messageId: row.thread_root_id }, {});
    }
    return { message, created: true };
  }

  async get(userId: number, id: number): Promise<MessageView> {
    return messageView(await this.visible(this.ctx.db, userId, id));
  }

  /** Sender only; sets is_edited. A deleted message cannot be edited. Decided under the room's lock. */
  async edit(userId: number, id: number, input: EditInput): Promise<MessageView> {
    const record = await this.ctx.writer.run(await this.roomOf(id), async (uow) => {
      const current = await this.visible(uow.trx, userId, id);
      if (current.sender_id !== userId) throw forbidden('Only the sender can edit this message.');
      if (current.is_deleted) throw badRequest('A deleted message cannot be edited.', 'message_deleted');
      if (input.content !== undefined) this.checkContent(input.content);
      if (input.content === undefined && input.public_key === undefined) return current;
      const row = await messagesRepository.update(uow.trx, id, {
        ...(input.content !== undefined ? { content: input.content } : {}),
        ...(input.public_key !== undefined ? { public_key: input.public_key } : {}),
        is_edited: 1,
        updated_at: nowIso(),
      });
      const rec = { ...current, ...row };
      // The log keeps no copy of the text (it reads the message when it sends an event): nothing earlier to rewrite.
      await uow.emit('message_updated', { chatRoomId: row.chat_room_id, userId, messageId: id }, { message: messageView(rec) });
      return rec;
    });
    return messageView(record);
  }

  /**
   * Soft: the content is cleared. The sender, or in a group its owner or an admin; `asStaff`: a
   * staff member, anywhere. Someone other than the sender is recorded as `deleted_by`. Deleting
   * twice is a no-op. Decided under the room's lock.
   */
  async remove(actorId: number, id: number, opts: { asStaff?: boolean } = {}): Promise<void> {
    await this.ctx.writer.run(await this.roomOf(id), async (uow) => {
      const current = opts.asStaff ? await messagesRepository.findById(uow.trx, id) : await this.moderated(uow.trx, actorId, id);
      if (!current) throw notFound(MESSAGE_NOT_FOUND);
      if (current.is_deleted) return;
      const deletedBy = current.sender_id === actorId ? null : actorId;
      const row = await messagesRepository.update(uow.trx, id, { content: '', public_key: null, is_deleted: 1, deleted_by_id: deletedBy, pinned_at: null, pinned_by_id: null, updated_at: nowIso() });
      // Its handlers remove its reactions, attachment and notifications in this transaction.
      const view = messageView({ ...current, ...row, reactions: [], attachment: null });
      await uow.emit('message_deleted', { chatRoomId: row.chat_room_id, userId: actorId, messageId: id }, { message: view });
    });
  }

  /**
   * Members only. A room's top-level messages, newest first; or (`thread`) a thread's replies,
   * oldest first, from the first reply unless a cursor says otherwise. See messagesRepository.page.
   */
  async history(userId: number, q: HistoryInput): Promise<HistoryPage> {
    const listing = await this.listing(userId, q);
    const limit = Math.min(q.limit ?? HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT);
    const inThread = 'threadRootId' in listing;
    const after = inThread && q.before === undefined && q.after === undefined ? 0 : q.after;
    const { rows, more } = await messagesRepository.page(this.ctx.db, listing, { before: q.before, after, limit });
    const forward = after !== undefined;
    // Cursor positions: the page's ends, or for an empty page the bounds that were asked for.
    const newest = rows.length ? rows[0].id : (after ?? (q.before !== undefined ? q.before - 1 : null));
    const oldest = rows.length ? rows[rows.length - 1].id : (q.before ?? (after !== undefined ? after + 1 : null));
    const hasOlder = oldest !== null && (forward ? await messagesRepository.exists(this.ctx.db, listing, 'older', oldest) : more);
    const hasNewer = newest !== null && (forward ? more : await messagesRepository.exists(this.ctx.db, listing, 'newer', newest));
    const results = rows.map(messageView);
    return { results: inThread ? results.reverse() : results, older: hasOlder ? oldest : null, newer: hasNewer ? newest : null };
  }

  /** What `q` lists, for an active member of its room: exactly one of `chat_room` and `thread`. */
  private async listing(userId: number, q: HistoryInput): Promise<Listing> {
    if (q.chat_room !== undefined && q.thread !== undefined) throw fieldError('thread', 'Give either chat_room or thread, not both.');
    if (q.thread !== undefined) {
      const root = await this.visible(this.ctx.db, userId, q.thread);
      if (root.thread_root_id !== null) throw fieldError('thread', 'This message is a reply, not the root of a thread.');
      return { threadRootId: root.id };
    }
    if (q.chat_room === undefined) throw fieldError('chat_room', 'This field is required.');
    await memberRoom(this.ctx.db, userId, q.chat_room);
    return { chatRoomId: q.chat_room };
  }

  /** A message its room's active members may see; 404 for everyone else. */
  private async visible(db: Db, userId: number, id: number): Promise<MessageRecord> {
    const message = await messagesRepository.findById(db, id);
    if (!message) throw notFound(MESSAGE_NOT_FOUND);
    await activeMemberOf(db, userId, message.chat_room_id, MESSAGE_NOT_FOUND);
    return message;
  }

  /** A message `userId` may delete: their own, or any in a group where they are the owner or an admin; else 403. */
  private async moderated(db: Db, userId: number, id: number): Promise<MessageRecord> {
    const message = await messagesRepository.findById(db, id);
    if (!message) throw notFound(MESSAGE_NOT_FOUND);
    const { room, membership } = await activeMemberOf(db, userId, message.chat_room_id, MESSAGE_NOT_FOUND);
    const moderates = room.room_type === 'group' && membership.role !== 'member';
    if (message.sender_id !== userId && !moderates) throw forbidden('Only the sender, or the owner or an admin of the group, can delete this message.');
    return message;
  }

  /** The room whose lock a change of message `id` takes (404 when there is no such message). */
  private async roomOf(id: number): Promise<number> {
    const room = await messagesRepository.roomOf(this.ctx.db, id);
    if (room === null) throw notFound(MESSAGE_NOT_FOUND);
    return room;
  }

  private async replay(db: Db, userId: number, chatRoomId: number, clientId: string): Promise<MessageView | null> {
    const first = await messagesRepository.findByClientId(db, userId, clientId);
    if (!first) return null;
    if (first.chat_room_id !== chatRoomId) throw conflict('This client_id was already used for a message in another chat room.');
    return messageView(first);
  }

  private checkContent(content: string): void {
    const max = this.ctx.config.messageMaxBytes;
    if (Buffer.byteLength(content, 'utf8') > max) throw tooLarge(`The message content is over ${max} bytes.`);
    if (content.length === 0) throw fieldError('content', 'This field may not be blank.');
    if (LONE_SURROGATE.test(content)) throw fieldError('content', 'The text is not valid Unicode (a lone surrogate).');
  }
}

function withNames(row: MessageRow, u: CallerNames): MessageRecord {
  return { ...row, sender_username: u.username, sender_first_name: u.first_name, sender_last_name: u.last_name };
}

/** The 400 for a thread reply whose root the database refused, or null for any other error. */
// A thread reply's root is checked, and its summary updated, by the insert (migration 013).
const refused = (err: unknown): never => {
  throw threadRefused(err) ?? err;
};

/** Sends checked and inserted together, one statement for a transaction's sends (see Writer.runAhead). */
const checkedSends: AheadStep<MemberSend, MemberSent> = {
  run: (trx, sends) => messagesRepository.insertAsMembers(trx, sends).catch(refused),
};

function threadRefused(err: unknown) {
  switch (threadRootRefusal(err)) {
    case THREAD_ROOT_NOT_IN_ROOM:
      return fieldError('thread', 'A thread starts from a message of the same chat room.');
    case THREAD_ROOT_IS_REPLY:
      return fieldError('thread', 'Threads start from top-level messages: reply in the thread of its root instead.');
    default:
      return null;
  }
}
