// The server's wire shapes, as the REST API and the sockets send them (see /openapi.json).
import type { AttachmentInfo } from './e2ee/attachments.js';

export interface User {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  bio: string;
  profile_picture: string | null;
  status: 'online' | 'offline';
  last_seen: string | null;
  date_joined: string;
  /** Staff may use the admin routes (/api/admin/…). */
  is_staff?: boolean;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export type RoomType = 'private' | 'group';
/** A group has one owner; the owner and admins moderate (remove, ban, delete messages, invite). */
export type Role = 'owner' | 'admin' | 'member';

export interface Room {
  id: number;
  room_type: RoomType;
  name: string;
  is_public: boolean;
  created_by: number | null;
  member_count: number;
  /** End-to-end encrypted (one way: never turned off). */
  is_encrypted?: boolean;
  created_at: string;
  updated_at: string;
}

export const REACTION_TYPES = ['like', 'love', 'laugh', 'wow', 'sad', 'angry'] as const;
export type ReactionType = (typeof REACTION_TYPES)[number];

export interface ReactionSummary {
  id: number;
  user: number;
  reaction_type: ReactionType;
}

export interface Reaction extends ReactionSummary {
  message: number;
  created_at: string;
  updated_at: string;
}

export type FileType = 'image' | 'document' | 'audio' | 'video' | 'encrypted';

export interface Attachment {
  id: number;
  message: number;
  file_type: FileType;
  mime_type: string;
  file_name: string;
  size: number;
  download_url: string;
  created_at: string;
}

export interface AttachmentDetail extends Attachment {
  file: string;
  signed_url: string;
  signed_url_expires_at: string;
}

export interface Message {
  id: number;
  chat_room: number;
  sender: number;
  sender_full_name: string;
  content: string;
  public_key: string | null;
  is_edited: boolean;
  is_deleted: boolean;
  /** Who deleted it when not its sender (a group's owner or admin, or staff); null or absent otherwise. */
  deleted_by?: number | null;
  reply_to: number | null;
  /** The user ids it mentions (from `mentions` and `@username`), fixed when sent. */
  mentions?: number[];
  /** A thread reply: its root's id; null for a top-level message. */
  thread?: number | null;
  /** On a thread root with replies; null otherwise. */
  thread_summary?: ThreadSummary | null;
  /** When it was pinned for its room (null: not pinned), and by whom. */
  pinned_at?: string | null;
  pinned_by?: number | null;
  reactions: ReactionSummary[];
  attachment: Attachment | null;
  client_id: string | null;
  created_at: string;
  updated_at: string;
  /** Set by this client, never by the server: what it made of a message of an encrypted room. */
  e2ee?: E2eeView;
}

/** An encrypted file as its message describes it (inside the ciphertext): key, IV, SHA-256 of the upload, name, type, size. */
export type EncryptedFile = AttachmentInfo;

/**
 * A message of an encrypted room as this client read it. `decrypted`: `content` is the plaintext;
 * `failed`: it could not be decrypted (`content` is empty; `reason` is the library's code, e.g.
 * `unknown_session` while its key has not reached this device); `plain`: it was not encrypted
 * (sent before encryption was turned on, or by a client that does not encrypt).
 */
export interface E2eeView {
  state: 'decrypted' | 'failed' | 'plain';
  reason?: string;
  /** The content as the server has it (decrypted again when a key arrives). */
  ciphertext?: string;
  /** The encrypted file the message carries. */
  file?: EncryptedFile;
}

export interface ThreadSummary {
  reply_count: number;
  last_reply_at: string;
  /** Who replied (user ids), first reply first. */
  participants: number[];
}

/** One search hit: the message and a snippet of it, HTML-escaped, with the matches in <mark>…</mark>. */
export interface SearchResult {
  message: Message;
  highlight: string;
}

export interface HistoryPage {
  next: string | null;
  previous: string | null;
  results: Message[];
}

export interface Membership {
  id: number;
  user: number;
  chat_room: number;
  room_type: RoomType;
  /** The other active members' usernames, comma-separated. */
  name: string;
  /** The room's own name (groups). */
  room_name: string;
  /** Private rooms: the other person's user id; null for groups. */
  peer: number | null;
  role: Role;
  joined_at: string;
  is_active: boolean;
  is_read: boolean;
  unread_count: number;
  last_message: Message | null;
  last_seen_message: number | null;
  is_muted: boolean;
  /** The room is end-to-end encrypted. */
  is_encrypted?: boolean;
}

export interface Member {
  user: number;
  username: string;
  role: Role;
  joined_at: string;
  status?: 'online' | 'offline';
  last_seen_message?: number | null;
}

/** A ban from a group (owner and admins see them). */
export interface Ban {
  user: number;
  username: string;
  reason: string;
  banned_by: number | null;
  banned_by_username?: string | null;
  created_at: string;
}

/** An invite code to a group; its link is `<origin>/#/invite/<code>`. */
export interface Invite {
  code: string;
  chat_room?: number;
  max_uses: number | null;
  uses: number;
  expires_at: string | null;
  created_by?: number | null;
  created_at?: string;
}

/** What anyone logged in may see of an invite before accepting it. */
export interface InvitePreview {
  code?: string;
  chat_room: { id: number; name: string; member_count: number };
}

/** A user as staff see them (the admin routes). */
export interface AdminUser extends User {
  is_active: boolean;
  is_staff: boolean;
}

export interface AdminStats {
  users: number;
  rooms: number;
  messages: number;
  online: number;
}

export interface Notification {
  id: number;
  type: string;
  body: string;
  chat_room: number | null;
  message: number | null;
  reaction: number | null;
  actor: number | null;
  is_read: boolean;
  created_at: string;
}

export interface ServerConfig {
  limits: { upload_max_bytes: number; message_max_bytes: number; avatar_max_bytes: number; body_limit_bytes: number };
  reaction_types: string[];
  file_types: string[];
  access_token_ttl: number;
}

/** What `/ws/general_updates/` and `/ws/user_status/` send. Stored events carry `id`. */
export type ServerEvent =
  | { type: 'ready' }
  | { type: 'pong' }
  | { type: 'resync_required'; detail: string }
  | { type: 'error'; detail: string; chat_room?: number }
  // seq: the room's own gapless counter; a room's events arrive in seq order.
  | ({ id: number; chat_room: number; seq: number; created_at: string } & (
      | { type: 'new_message' | 'message_updated' | 'message_deleted' | 'message_pinned' | 'message_unpinned'; message: Message }
      | { type: 'reaction'; reaction: Reaction; action: 'added' | 'changed' | 'removed' }
      | { type: 'member_joined' | 'member_left'; user: number; username: string; by: number; kicked?: boolean; banned?: boolean }
      | { type: 'member_role_changed'; user: number; role: Role; by: number }
      | { type: 'member_banned'; user: number; username: string; by: number; reason: string }
      | { type: 'member_unbanned'; user: number; username: string; by: number }
      | { type: 'room_created'; room: Room; members: number[] }
      | { type: 'room_updated'; room: Room }
      | { type: 'room_deleted'; members: number[]; by: number }
      | { type: 'read'; user: number; message: number }
      | { type: 'device_added' | 'device_removed'; user: number; device_id: string }
    ))
  | { id: number; type: 'notification'; created_at: string; chat_room: number | null; notification: Notification }
  | { type: 'typing'; chat_room: number; user: number; created_at: string }
  // Key material for this browser's E2EE device (sockets opened with ?device_id=); not in the event log.
  | { type: 'to_device'; to_device: ToDeviceFrame }
  | { type: 'presence'; user: number; status: 'online' | 'offline'; last_seen: string | null };

/** An envelope waiting for one device (the socket's `to_device` frame, or the queue's list). */
export interface ToDeviceFrame {
  id: number;
  sender: number | null;
  sender_device: string;
  envelope: string;
  created_at: string;
}

/** A user's E2EE device as the key directory lists it (public keys only). */
export interface DeviceInfo {
  user: number;
  device_id: string;
  identity_key: string;
  signing_key: string;
  display_name?: string | null;
  created_at?: string;
}

export type RoomEvent = Extract<ServerEvent, { chat_room: number; id: number }>;
