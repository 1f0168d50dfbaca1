// Every event a change can write, and its fields (besides id, type, chat_room, seq and created_at).
import type { Static } from 'typebox';
import type { ChatRoomRow, Role } from '../../db/schema.js';
import type { Message } from '../messages/messages.schemas.js';
import type { Notification } from '../notifications/notifications.schemas.js';
import type { Reaction } from '../reactions/reactions.schemas.js';
import type { Room } from '../rooms/rooms.schemas.js';

type MemberChange = { user: number; username: string; by: number; kicked?: boolean; banned?: boolean };

export interface RoomEvents {
  room_created: { room: Static<typeof Room>; members: number[] };
  room_updated: { room: Static<typeof Room> };
  /** `members`: who belonged to it, since the room and its memberships are gone. */
  room_deleted: { members: number[]; by: number };
  member_joined: MemberChange;
  member_left: MemberChange;
  member_role_changed: { user: number; role: Role; by: number };
  /** After the banned user's `member_left` (when they were a member): the ban, with its reason. */
  member_banned: { user: number; username: string; by: number; reason: string };
  member_unbanned: { user: number; username: string; by: number };
  /** Message events: the log keeps the message id, and sends the message as it is when read. */
  new_message: { message: Static<typeof Message> };
  /** Without `message` when the change did not read it (a thread root's new summary): the log reads it when it sends the event. */
  message_updated: { message?: Static<typeof Message> };
  message_deleted: { message: Static<typeof Message> };
  message_pinned: { message: Static<typeof Message> };
  message_unpinned: { message: Static<typeof Message> };
  read: { user: number; message: number };
  reaction: { reaction: Static<typeof Reaction>; action: 'added' | 'changed' | 'removed' };
  /** E2EE: a member registered a device (senders share their room keys with it) or removed one (senders rotate). */
  device_added: { user: number; device_id: string };
  device_removed: { user: number; device_id: string };
  /** Addressed to the notification's owner only (`recipientId`). */
  notification: { chat_room: number | null; notification: Static<typeof Notification> };
}

export type EventType = keyof RoomEvents;

/** Events whose `message` the log reads from the messages table when it sends them. */
export const MESSAGE_EVENTS: ReadonlySet<string> = new Set<EventType>(['new_message', 'message_updated', 'message_deleted', 'message_pinned', 'message_unpinned']);

/** Where an event belongs: its room (or one recipient), who caused it, the message it is about. */
export interface EventAt {
  chatRoomId: number;
  userId?: number | null;
  messageId?: number | null;
  /** Set: the event goes to this user only (chatRoomId is then NO_ROOM). */
  recipientId?: number | null;
  /** The room as the change read it in its transaction, for handlers (never stored or sent). */
  room?: ChatRoomRow;
}

/** An event emitted in a unit of work, as handlers see it. */
export interface Emitted<K extends EventType = EventType> {
  type: K;
  chatRoomId: number;
  userId: number | null;
  messageId: number | null;
  recipientId: number | null;
  room: ChatRoomRow | null;
  payload: RoomEvents[K];
}

/** chat_room_id of events that belong to no room (those addressed to one user). */
export const NO_ROOM = 0;
