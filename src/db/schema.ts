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
  /** 1: may use the /api/admin/ routes (`npm run admin -- createsuperuser`). */
  is_staff: Flag;
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
  attachments: AttachmentsTable;
  reactions: ReactionsTable;
  notifications: NotificationsTable;
  e2ee_keys: E2eeKeysTable;
  prekey_identities: PrekeyIdentitiesTable;
  one_time_prekeys: OneTimePrekeysTable;
  room_bans: RoomBansTable;
  room_invites: RoomInvitesTable;
  e2ee_devices: E2eeDevicesTable;
  device_prekeys: DevicePrekeysTable;
  to_device_messages: ToDeviceMessagesTable;
}

export type Db = Kysely<DB>;
export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;

/** A member's role in a group: one owner; admins moderate; members (private rooms have owner and member). */
export type Role = 'owner' | 'admin' | 'member';

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
  /** The `seq` of the room's latest event; the row's lock orders the room's writes. */
  event_seq: Generated<number>;
  /** 1: end-to-end encrypted (ciphertext only; never searched). Never goes back to 0. */
  is_encrypted: Flag;
}

export interface MembershipsTable {
  id: Id;
  chat_room_id: number;
  user_id: number;
  role: ColumnType<Role, Role | undefined, Role>;
  is_active: Flag;
  joined_at: string;
  left_at: string | null;
  last_read_message_id: number | null;
  marked_unread: Flag;
  hidden_at_message_id: number | null;
  /** 1: the member gets no notifications from this room. */
  is_muted: Flag;
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
  /** Who deleted it when not its sender (an owner, admin or staff member); else null. */
  deleted_by_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** A thread reply: the top-level message of the same room it answers; else null. */
  thread_root_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** On a root: its thread's replies, the newest one's time, and its first participants (JSON ids). */
  thread_reply_count: Generated<number>;
  thread_last_reply_at: ColumnType<string | null, string | null | undefined, string | null>;
  thread_participants: Generated<string>;
  /** JSON array of the mentioned members' ids. */
  mentions: Generated<string>;
  pinned_at: ColumnType<string | null, string | null | undefined, string | null>;
  pinned_by_id: ColumnType<number | null, number | null | undefined, number | null>;
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
  /** Set for events addressed to one user (notifications; chat_room_id is then 0). */
  recipient_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** The room's own gapless counter (null for events addressed to one user). */
  seq: ColumnType<number | null, number | null | undefined, number | null>;
}

export type ChatRoomRow = Selectable<ChatRoomsTable>;
export type MembershipRow = Selectable<MembershipsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type EventRow = Selectable<EventsTable>;

export type AttachmentFileType = 'image' | 'document' | 'audio' | 'video' | 'encrypted';

export interface AttachmentsTable {
  id: Id;
  message_id: number;
  uploader_id: number;
  file_type: AttachmentFileType;
  /** The type sniffed from the bytes (never the client's), sent as Content-Type. */
  mime_type: string;
  file_name: string;
  size: number;
  storage_key: string;
  created_at: string;
}

export interface ReactionsTable {
  id: Id;
  message_id: number;
  user_id: number;
  reaction_type: string;
  created_at: string;
  updated_at: string;
}

export interface NotificationsTable {
  id: Id;
  user_id: number;
  type: string;
  body: string;
  chat_room_id: number | null;
  message_id: number | null;
  reaction_id: number | null;
  actor_id: number | null;
  is_read: Flag;
  created_at: string;
}

export interface E2eeKeysTable {
  id: Id;
  user_id: number;
  public_key: string;
  key_format: string;
  label: string | null;
  created_at: string;
}

export interface PrekeyIdentitiesTable {
  user_id: number;
  identity_key: string;
  signed_prekey_id: number;
  signed_prekey: string;
  signed_prekey_signature: string;
  created_at: string;
  updated_at: string;
}

export interface OneTimePrekeysTable {
  id: Id;
  user_id: number;
  key_id: number;
  public_key: string;
  created_at: string;
}

export type AttachmentRow = Selectable<AttachmentsTable>;
export type ReactionRow = Selectable<ReactionsTable>;
export type NotificationRow = Selectable<NotificationsTable>;
export type E2eeKeyRow = Selectable<E2eeKeysTable>;
export type PrekeyIdentityRow = Selectable<PrekeyIdentitiesTable>;

export interface RoomBansTable {
  id: Id;
  chat_room_id: number;
  user_id: number;
  banned_by: number | null;
  reason: Generated<string>;
  created_at: string;
}

export interface RoomInvitesTable {
  id: Id;
  chat_room_id: number;
  code: string;
  created_by: number | null;
  /** null: unlimited. */
  max_uses: number | null;
  uses: Generated<number>;
  /** null: never expires. */
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export type RoomBanRow = Selectable<RoomBansTable>;
export type RoomInviteRow = Selectable<RoomInvitesTable>;

/** One device (a browser) of a user in the E2EE key directory; its identity and signing keys never change. */
export interface E2eeDevicesTable {
  id: Id;
  user_id: number;
  device_id: string;
  identity_key: string;
  signing_key: string;
  signed_prekey_id: number;
  signed_prekey: string;
  signed_prekey_signature: string;
  display_name: Generated<string>;
  created_at: string;
  updated_at: string;
}

/** A device's unclaimed one-time prekeys (deleted as they are claimed). */
export interface DevicePrekeysTable {
  id: Id;
  device_pk: number;
  key_id: number;
  public_key: string;
  created_at: string;
}

/** An opaque envelope queued for one device until it acknowledges it. */
export interface ToDeviceMessagesTable {
  id: Id;
  /** The recipient device (e2ee_devices.id). */
  device_pk: number;
  sender_id: number | null;
  sender_device: string;
  envelope: string;
  created_at: string;
}

export type E2eeDeviceRow = Selectable<E2eeDevicesTable>;
export type ToDeviceMessageRow = Selectable<ToDeviceMessagesTable>;
