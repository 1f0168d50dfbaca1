// Which room events make which notifications, for whom. Runs inside the event's transaction
// (a handler of the unit of work), so a notification exists exactly when its cause committed.
// Bodies name people and rooms, never message content (it may be ciphertext).
import type { Insertable } from 'kysely';
import { nowIso } from '../../context.js';
import type { ChatRoomRow, Db, NotificationRow, NotificationsTable } from '../../db/schema.js';
import { NO_ROOM, type Emitted, type RoomEvents } from '../events/events.types.js';
import type { BatchStep, UnitOfWork } from '../events/unit-of-work.js';
import { roomsRepository } from '../rooms/rooms.repository.js';
import { notificationsRepository as repo, type MessageNotification } from './notifications.repository.js';
import type { NotificationType } from './notifications.schemas.js';
import { notificationView } from './notifications.view.js';

type Draft = Omit<Insertable<NotificationsTable>, 'user_id' | 'created_at'> & { type: NotificationType };

const roomLabel = (room: ChatRoomRow) => (room.name ? `"${room.name}"` : room.room_type === 'private' ? 'a private conversation' : 'a group');

export interface NotifyLimits {
  /** A room with more active members than this gets no `message` notifications (its unread counts say it). */
  messageMaxMembers: number;
}

export async function notifyFor(uow: UnitOfWork, e: Emitted, limits: NotifyLimits): Promise<void> {
  if (e.type === 'new_message') return forMessage(uow, e, limits);
  await tell(uow, await repo.insertMany(uow.trx, await rowsFor(uow.trx, e)));
}

/** A `notification` event to each notification's user. */
async function tell(uow: UnitOfWork, rows: NotificationRow[]): Promise<void> {
  for (const row of rows) {
    await uow.emit('notification', { chatRoomId: NO_ROOM, userId: row.actor_id, recipientId: row.user_id }, { chat_room: row.chat_room_id, notification: notificationView(row) });
  }
}

/**
 * The notifications of the new messages of a batch of changes: one statement for all (the hot
 * path of every send), or one per room-size limit should changes give different ones.
 */
const messageNotifications: BatchStep<MessageNotification & { maxMembers: number }> = {
  async run(trx, items) {
    const byMessage = new Map<number, NotificationRow[]>();
    for (const maxMembers of new Set(items.map((i) => i.item.maxMembers))) {
      const rows = await repo.insertForMessages(trx, items.filter((i) => i.item.maxMembers === maxMembers).map(({ item: { maxMembers: _, ...n } }) => n), maxMembers);
      for (const row of rows) {
        const list = byMessage.get(row.message_id!);
        if (list) list.push(row);
        else byMessage.set(row.message_id!, [row]);
      }
    }
    for (const { uow, item } of items) await tell(uow, byMessage.get(item.message_id!) ?? []);
  },
};

/**
 * A new message notifies every other member who has not muted the room, unless the room is
 * larger than `messageMaxMembers`. A mentioned member gets a `mention` instead, muted or not,
 * whatever the room's size.
 */
async function forMessage(uow: UnitOfWork, e: Emitted, limits: NotifyLimits): Promise<void> {
  const { message } = e.payload as RoomEvents['new_message'];
  const room = e.room ?? (await roomsRepository.findById(uow.trx, e.chatRoomId));
  if (!room) return;
  const who = message.sender_full_name;
  const body = room.room_type === 'private' ? `${who} sent you a message` : `${who} sent a message in ${roomLabel(room)}`;
  await uow.together(messageNotifications, {
    body,
    mention_body: `${who} mentioned you in ${roomLabel(room)}`,
    mentioned: message.mentions,
    chat_room_id: room.id,
    message_id: message.id,
    actor_id: message.sender,
    created_at: nowIso(),
    except_user: message.sender,
    maxMembers: limits.messageMaxMembers,
  });
}

async function rowsFor(trx: Db, e: Emitted): Promise<Array<Insertable<NotificationsTable>>> {
  const rows: Array<Insertable<NotificationsTable>> = [];
  const createdAt = nowIso();
  for (const { users, draft } of await draftsFor(trx, e)) for (const user of users) rows.push({ ...draft, user_id: user, created_at: createdAt });
  return rows;
}

async function draftsFor(trx: Db, e: Emitted): Promise<Array<{ users: number[]; draft: Draft }>> {
  switch (e.type) {
    case 'member_joined':
    case 'member_left': {
      const change = e.payload as RoomEvents['member_joined'];
      const room = await roomsRepository.findById(trx, e.chatRoomId);
      if (!room) return [];
      const names = await repo.names(trx, [change.user, change.by]);
      const name = (id: number) => names.get(id) ?? change.username;
      const base = { chat_room_id: room.id, actor_id: change.by };
      const others = await repo.audience(trx, room.id, { except: [change.user, change.by] });
      if (e.type === 'member_left') {
        const left = change as RoomEvents['member_left'];
        if (!left.kicked) return [{ users: others, draft: { ...base, type: 'leave', body: `${name(change.user)} left ${roomLabel(room)}` } }];
        if (left.banned) return [{ users: others, draft: { ...base, type: 'leave', body: `${name(change.by)} banned ${name(change.user)} from ${roomLabel(room)}` } }];
        // The removed user is no longer a member (so not in any audience), and is told all the same.
        return [
          { users: others, draft: { ...base, type: 'leave', body: `${name(change.by)} removed ${name(change.user)} from ${roomLabel(room)}` } },
          { users: [change.user], draft: { ...base, type: 'leave', body: `${name(change.by)} removed you from ${roomLabel(room)}` } },
        ];
      }
      const joinedBody = change.by === change.user ? `${name(change.user)} joined ${roomLabel(room)}` : `${name(change.by)} added ${name(change.user)} to ${roomLabel(room)}`;
      const drafts = [{ users: others, draft: { ...base, type: 'join' as const, body: joinedBody } }];
      if (change.by !== change.user) {
        const added = await repo.audience(trx, room.id, { only: [change.user] });
        drafts.push({ users: added, draft: { ...base, type: 'join', body: `${name(change.by)} added you to ${roomLabel(room)}` } });
      }
      return drafts;
    }
    case 'member_role_changed': {
      const change = e.payload as RoomEvents['member_role_changed'];
      const room = e.room ?? (await roomsRepository.findById(trx, e.chatRoomId));
      if (!room) return [];
      const who = (await repo.names(trx, [change.by])).get(change.by) ?? 'Someone';
      const what = change.role === 'owner' ? 'the owner' : change.role === 'admin' ? 'an admin' : 'a member';
      const users = await repo.audience(trx, room.id, { only: [change.user] });
      return [{ users, draft: { type: 'role', body: `${who} made you ${what} of ${roomLabel(room)}`, chat_room_id: room.id, actor_id: change.by } }];
    }
    case 'member_banned':
    case 'member_unbanned': {
      // Told to the banned user only (a member's removal was told to the room by its member_left).
      const change = e.payload as RoomEvents['member_banned'];
      const room = e.room ?? (await roomsRepository.findById(trx, e.chatRoomId));
      if (!room) return [];
      const who = (await repo.names(trx, [change.by])).get(change.by) ?? 'Someone';
      const body = e.type === 'member_banned'
        ? `${who} banned you from ${roomLabel(room)}${change.reason ? `: ${change.reason}` : ''}`
        : `${who} lifted your ban from ${roomLabel(room)}`;
      return [{ users: [change.user], draft: { type: 'ban', body, chat_room_id: room.id, actor_id: change.by } }];
    }
    case 'message_deleted': {
      // Deleted by a moderator or staff: the sender is told who did it (not the text, which is gone).
      const { message } = e.payload as RoomEvents['message_deleted'];
      if (message.deleted_by === null || message.deleted_by === message.sender) return [];
      const room = e.room ?? (await roomsRepository.findById(trx, e.chatRoomId));
      if (!room) return [];
      const who = (await repo.names(trx, [message.deleted_by])).get(message.deleted_by) ?? 'A moderator';
      // No message_id: the message's own notifications were just removed with it.
      return [{ users: [message.sender], draft: { type: 'deleted', body: `${who} deleted your message in ${roomLabel(room)}`, chat_room_id: room.id, actor_id: message.deleted_by } }];
    }
    case 'room_created': {
      const { members } = e.payload as RoomEvents['room_created'];
      const creator = e.userId;
      const room = e.room ?? (await roomsRepository.findById(trx, e.chatRoomId));
      if (!room || creator === null) return [];
      const who = (await repo.names(trx, [creator])).get(creator) ?? 'Someone';
      const body = room.room_type === 'private' ? `${who} started a private conversation with you` : `${who} added you to ${roomLabel(room)}`;
      const users = await repo.audience(trx, room.id, { only: members.filter((m) => m !== creator) });
      return [{ users, draft: { type: 'join', body, chat_room_id: room.id, actor_id: creator } }];
    }
    case 'reaction': {
      const { reaction, action } = e.payload as RoomEvents['reaction'];
      if (action !== 'added') return [];
      const message = await trx.selectFrom('messages').select(['sender_id', 'chat_room_id']).where('id', '=', reaction.message).executeTakeFirst();
      if (!message || message.sender_id === reaction.user) return [];
      const who = (await repo.names(trx, [reaction.user])).get(reaction.user) ?? 'Someone';
      const users = await repo.audience(trx, message.chat_room_id, { only: [message.sender_id] });
      return [{
        users,
        draft: {
          type: 'reaction',
          body: `${who} reacted with "${reaction.reaction_type}" to your message`,
          chat_room_id: message.chat_room_id,
          message_id: reaction.message,
          reaction_id: reaction.id,
          actor_id: reaction.user,
        },
      }];
    }
    default:
      return [];
  }
}
