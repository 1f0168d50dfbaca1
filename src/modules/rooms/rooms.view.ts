import type { Static } from 'typebox';
import type { ChatRoomRow, MembershipRow } from '../../db/schema.js';
import { messageView, type MessageRecord } from '../messages/messages.view.js';
import type { Membership, Room } from './rooms.schemas.js';

export type RoomView = Static<typeof Room>;
export type MembershipView = Static<typeof Membership>;

export function roomView(r: ChatRoomRow, memberCount: number): RoomView {
  return {
    id: r.id,
    room_type: r.room_type,
    name: r.name,
    is_public: r.is_public === 1,
    is_encrypted: r.is_encrypted === 1,
    created_by: r.created_by,
    member_count: memberCount,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** Names a conversation's name shows (the rest as "+N"). */
export const MAX_NAMES = 10;

/** The first of the other members' names, and how many others there are in all. */
export type OtherMembers = { first: Array<{ id: number; username: string }>; total: number };

export function conversationName(others: OtherMembers): string {
  const names = others.first.slice(0, MAX_NAMES).map((o) => o.username).join(', ');
  return others.total > MAX_NAMES ? `${names} +${others.total - MAX_NAMES}` : names;
}

/** A conversation is hidden until a message newer than the one current when it was hidden. */
export function isHidden(m: MembershipRow, lastMessageId: number | null): boolean {
  return m.hidden_at_message_id !== null && (lastMessageId ?? 0) <= m.hidden_at_message_id;
}

export function membershipView(
  m: MembershipRow,
  room: Pick<ChatRoomRow, 'room_type' | 'is_encrypted'> & { name: string },
  extra: { others: OtherMembers; unread: number; lastMessage: MessageRecord | null },
): MembershipView {
  return {
    id: m.id,
    user: m.user_id,
    chat_room: m.chat_room_id,
    room_type: room.room_type,
    name: conversationName(extra.others),
    peer: room.room_type === 'private' ? (extra.others.first[0]?.id ?? null) : null,
    room_name: room.name,
    role: m.role,
    joined_at: m.joined_at,
    is_active: m.is_active === 1 && !isHidden(m, extra.lastMessage?.id ?? null),
    is_read: extra.unread === 0 && m.marked_unread === 0,
    unread_count: extra.unread,
    last_message: extra.lastMessage ? messageView(extra.lastMessage) : null,
    last_seen_message: m.last_read_message_id,
    is_muted: m.is_muted === 1, // mute flag (issue 5)
    is_encrypted: room.is_encrypted === 1,
  };
}
