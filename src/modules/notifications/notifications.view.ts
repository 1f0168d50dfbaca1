import type { Static } from 'typebox';
import type { NotificationRow } from '../../db/schema.js';
import type { Notification, NotificationType } from './notifications.schemas.js';

export type NotificationView = Static<typeof Notification>;

export function notificationView(n: NotificationRow): NotificationView {
  return {
    id: n.id,
    type: n.type as NotificationType,
    body: n.body,
    chat_room: n.chat_room_id,
    message: n.message_id,
    reaction: n.reaction_id,
    actor: n.actor_id,
    is_read: n.is_read === 1,
    created_at: n.created_at,
  };
}
