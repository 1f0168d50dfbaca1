import type { Static } from 'typebox';
import type { MessageRow } from '../../db/schema.js';
import type { Attachment } from '../attachments/attachments.schemas.js';
import type { ReactionSummary } from '../reactions/reactions.schemas.js';
import type { Message } from './messages.schemas.js';

/**
 * A message with its sender's names (joined from users), and its reactions and attachment
 * when they were loaded (messagesRepository reads load them; a new message has none).
 */
export type MessageRecord = MessageRow & {
  sender_username: string;
  sender_first_name: string;
  sender_last_name: string;
  reactions?: Array<Static<typeof ReactionSummary>>;
  attachment?: Static<typeof Attachment> | null;
};

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
    deleted_by: m.deleted_by_id,
    mentions: JSON.parse(m.mentions) as number[],
    thread: m.thread_root_id,
    thread_summary: m.thread_reply_count > 0
      ? { reply_count: m.thread_reply_count, last_reply_at: m.thread_last_reply_at!, participants: JSON.parse(m.thread_participants) as number[] }
      : null,
    pinned_at: m.pinned_at,
    pinned_by: m.pinned_by_id,
    reply_to: m.reply_to_id,
    reactions: m.reactions ?? [],
    attachment: m.attachment ?? null,
    client_id: m.client_id,
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}
