import { Type } from 'typebox';
import { Id, Nullable } from '../../http/schemas.js';
import { Message } from '../messages/messages.schemas.js';

export const RoomType = Type.Enum(['private', 'group'], { description: '"private": exactly two members; "group": any number' });
export const RoomName = Type.String({ maxLength: 255, pattern: '^[^\\u0000]*$' });

export const Room = Type.Object({
  id: Type.Integer(),
  room_type: RoomType,
  name: Type.String({ description: 'A group\'s name; "" for a private room' }),
  is_public: Type.Boolean({ description: 'Anyone may find and join it (groups only)' }),
  is_encrypted: Type.Boolean({ description: 'End-to-end encrypted: the server stores and relays ciphertext only, never searches it, and it can never be turned off' }),
  created_by: Nullable(Type.Integer()),
  member_count: Type.Integer(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const CreateRoomBody = Type.Object({
  room_type: RoomType,
  name: Type.Optional(RoomName),
  is_public: Type.Optional(Type.Boolean({ description: 'Groups only; default true. Ignored for private rooms, which are never public.' })),
  members: Type.Optional(Type.Array(Id, { maxItems: 1000, description: 'Other users to add. A private room takes exactly one.' })),
  is_encrypted: Type.Optional(
    Type.Boolean({
      description:
        'Default false. true: end-to-end encrypted from the start. Asking for an encrypted private room whose pair already has an unencrypted one turns that one on (any member of a private room may).',
    }),
  ),
});

export const UpdateRoomBody = Type.Object({
  name: Type.Optional(RoomName),
  is_public: Type.Optional(Type.Boolean({ description: 'Owner only' })),
  room_type: Type.Optional(RoomType),
  is_encrypted: Type.Optional(Type.Boolean({ description: "One way: true turns end-to-end encryption on (a group's owner; any member of a private room); false on an encrypted room → 400" })),
});

export const Role = Type.Enum(['owner', 'admin', 'member'], { description: 'A group has one owner; the owner and admins moderate (remove members, delete messages)' });

export const MemberParams = Type.Object({ id: Id, user_id: Id });

export const MemberRoleBody = Type.Object({
  role: Type.Enum(['owner', 'admin', 'member'], { description: 'owner: hands the group over (the old owner becomes admin)' }),
});

export const BanBody = Type.Object({
  user: Id,
  reason: Type.Optional(Type.String({ maxLength: 500, pattern: '^[^\\u0000]*$', description: 'Shown to the room and to the banned user (at most 500 characters)' })),
});

export const Ban = Type.Object({
  user: Type.Integer(),
  username: Type.String(),
  reason: Type.String({ description: '"" when none was given' }),
  banned_by: Nullable(Type.Integer({ description: 'null once that account is deleted' })),
  banned_by_username: Nullable(Type.String()),
  created_at: Type.String(),
});

export const Member = Type.Object({
  user: Type.Integer(),
  username: Type.String(),
  role: Role,
  joined_at: Type.String(),
  status: Type.Enum(['online', 'offline'], { description: 'online while the member has a /ws/user_status/ socket open (on any instance)' }),
  last_seen_message: Nullable(Type.Integer({ description: "The member's read position: id of the last message they read (for read receipts), or null" })),
});

export const Membership = Type.Object({
  id: Type.Integer(),
  user: Type.Integer(),
  chat_room: Type.Integer(),
  room_type: RoomType,
  name: Type.String({ description: "The other active members' usernames, comma-separated (at most 10, then \"+N\")" }),
  room_name: Type.String({ description: "The room's own name (groups)" }),
  peer: Nullable(Type.Integer({ description: "Private rooms: the other person's user id (for their presence); null for groups" })),
  role: Role,
  joined_at: Type.String(),
  is_active: Type.Boolean({ description: 'false while the conversation is hidden' }),
  is_read: Type.Boolean(),
  unread_count: Type.Integer({ description: 'Messages from others after the read position, not counting deleted ones; counted up to 100 (show "99+")' }),
  last_message: Nullable(Message),
  last_seen_message: Nullable(Type.Integer({ description: 'The read position: id of the last message read' })),
  // mute flag (issue 5)
  is_muted: Type.Boolean({ description: 'true: this conversation makes no notifications for you (messages, reactions, joins, leaves); its events still arrive on the socket' }),
  is_encrypted: Type.Boolean({ description: "The room's `is_encrypted`: end-to-end encrypted" }),
});

export const AddMembershipBody = Type.Object({
  chat_room: Id,
  user: Type.Optional(Id),
});

export const UpdateMembershipBody = Type.Object({
  is_read: Type.Optional(Type.Boolean({ description: 'true: read up to the latest message; false: mark unread' })),
  last_seen_message: Type.Optional(Id),
  is_active: Type.Optional(Type.Boolean({ description: 'false hides the conversation (like DELETE), true shows it again' })),
  // mute flag (issue 5)
  is_muted: Type.Optional(Type.Boolean({ description: 'true: no notifications from this conversation; false: notifications again' })),
});

export const MembershipStatus = Type.Object({ status: Type.Enum(['online', 'offline']) });
