import type { Static } from 'typebox';
import type { MessageRow } from '../../db/schema.js';
import type { Message } from './messages.schemas.js';

/** A message with its sender's names (joined from users). */
export type MessageRecord = MessageRow & { sender_username: string; sender_first_name: string; sender_last_name: string };

export type MessageView = Static<typeof Message>;

export function fullName(first: string, last: string, username: string): string {
  return `${first} ${last}`.trim() || username;
}

export function messageView(m: MessageRecord): MessageView {
  return {
    id: m.id,
    chat_room: m.chat_room_id,
    sender: m.sender_id,
    sender_full_name: fullName(m.sender_first_name, m.sender_last_name, m.sender_username),
    content: m.content,
    public_key: m.public_key,
    is_edited: m.is_edited === 1,
    is_deleted: m.is_deleted === 1,
    reply_to: m.reply_to_id,
    // Reactions and attachments come with their own module.
    reactions: [],
    attachment: null,
    client_id: m.client_id,
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}
