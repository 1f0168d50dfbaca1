import { Type } from 'typebox';
import { Nullable } from '../../http/schemas.js';

export const NOTIFICATION_TYPES = ['message', 'mention', 'reaction', 'join', 'leave', 'role', 'ban', 'deleted'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const Notification = Type.Object({
  id: Type.Integer(),
  type: Type.Enum([...NOTIFICATION_TYPES], {
    description:
      'message: a new message from another member; reaction: someone reacted to your message; ' +
      'join: someone joined one of your rooms, or added you to a room; leave: someone left one of your rooms, or removed you or someone else from it; ' +
      'role: your role in a group changed',
  }),
  body: Type.String({ description: 'Human-readable text. Never contains message content (it may be ciphertext).' }),
  chat_room: Nullable(Type.Integer()),
  message: Nullable(Type.Integer()),
  reaction: Nullable(Type.Integer()),
  actor: Nullable(Type.Integer({ description: 'The user whose action made it' })),
  is_read: Type.Boolean(),
  created_at: Type.String(),
});

export const NotificationListQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
  is_read: Type.Optional(Type.Boolean({ description: 'Only read (true) or unread (false) ones' })),
});

export const UpdateNotificationBody = Type.Object({ is_read: Type.Boolean() });

export const MarkAllResult = Type.Object({ marked: Type.Integer({ description: 'How many were unread and are now read' }) });
