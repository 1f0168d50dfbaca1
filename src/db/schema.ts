// Table types for Kysely. Booleans are stored as 0/1 integers and times as ISO-8601 UTC
// text on both engines, so rows read the same on SQLite and PostgreSQL; repositories map
// rows to domain objects.
import type { ColumnType, Generated, Kysely, Selectable } from 'kysely';

type Id = Generated<number>;
type Flag = ColumnType<number, number | undefined, number>;

export interface UsersTable {
  id: Id;
  username: string;
  username_key: string;
  email: string;
  email_key: string;
  password_hash: string;
  first_name: Generated<string>;
  last_name: Generated<string>;
  bio: Generated<string>;
  profile_picture: string | null;
  is_active: Flag;
  date_joined: string;
  last_seen: string | null;
  deleted_at: string | null;
}

export interface SessionsTable {
  id: Id;
  user_id: number;
  refresh_gen: Generated<number>;
  refresh_hash: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
}

export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
  chat_rooms: ChatRoomsTable;
  memberships: MembershipsTable;
  messages: MessagesTable;
  events: EventsTable;
}

export type Db = Kysely<DB>;
export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;

export interface ChatRoomsTable {
  id: Id;
  room_type: 'private' | 'group';
  name: Generated<string>;
  is_public: Flag;
  created_by: number | null;
  /** 'minUserId:maxUserId' for a private room holding both users; unique. */
  private_key: string | null;
  created_at: string;
  updated_at: string;
}

export interface MembershipsTable {
  id: Id;
  chat_room_id: number;
  user_id: number;
  role: ColumnType<'owner' | 'member', 'owner' | 'member' | undefined, 'owner' | 'member'>;
  is_active: Flag;
  joined_at: string;
  left_at: string | null;
  last_read_message_id: number | null;
  marked_unread: Flag;
  hidden_at_message_id: number | null;
}

export interface MessagesTable {
  id: Id;
  chat_room_id: number;
  sender_id: number;
  client_id: string | null;
  content: string;
  public_key: string | null;
  reply_to_id: number | null;
  is_edited: Flag;
  is_deleted: Flag;
  created_at: string;
  updated_at: string;
}

export interface EventsTable {
  id: Id;
  chat_room_id: number;
  user_id: number | null;
  message_id: number | null;
  type: string;
  /** JSON object text: the event's fields other than id, type, chat_room and created_at. */
  payload: string;
  created_at: string;
}

export type ChatRoomRow = Selectable<ChatRoomsTable>;
export type MembershipRow = Selectable<MembershipsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type EventRow = Selectable<EventsTable>;
