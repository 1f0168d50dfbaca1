import { Type } from 'typebox';
import { Id, Nullable, NullableInput } from '../../http/schemas.js';
import { Attachment } from '../attachments/attachments.schemas.js';
import { ReactionSummary } from '../reactions/reactions.schemas.js';

export const MAX_THREAD_PARTICIPANTS = 10;

const ThreadSummary = Type.Object(
  {
    reply_count: Type.Integer(),
    last_reply_at: Type.String(),
    participants: Type.Array(Type.Integer(), { description: `The first ${MAX_THREAD_PARTICIPANTS} people who replied, in order` }),
  },
  { description: 'On a thread root with replies; null otherwise' },
);

export const Message = Type.Object({
  id: Type.Integer(),
  chat_room: Type.Integer(),
  sender: Type.Integer(),
  sender_full_name: Type.String({ description: 'First and last name, or the username when both are empty' }),
  content: Type.String({ description: 'Opaque: exactly the string sent ("" once deleted)' }),
  public_key: Nullable(Type.String()),
  is_edited: Type.Boolean(),
  is_deleted: Type.Boolean(),
  deleted_by: Nullable(Type.Integer({ description: 'Who deleted it, when not its sender (an owner or admin of the group, or staff); else null' })),
  reply_to: Nullable(Type.Integer()),
  mentions: Type.Array(Type.Integer(), { description: 'The ids of the members it mentions (from `mentions` and `@username`), fixed when sent' }),
  thread: Nullable(Type.Integer({ description: "A thread reply: its root's id; null for a top-level message" })),
  thread_summary: Nullable(ThreadSummary),
  pinned_at: Nullable(Type.String()),
  pinned_by: Nullable(Type.Integer()),
  reactions: Type.Array(ReactionSummary, { description: 'Every reaction, oldest first; [] once deleted' }),
  attachment: Nullable(Attachment),
  client_id: Nullable(Type.String({ description: "The sender's idempotency key, when one was given" })),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const Content = Type.String({
  minLength: 1,
  description: 'Opaque text or base64 ciphertext, kept byte for byte; at most MESSAGE_MAX_BYTES bytes of UTF-8 (413 beyond). No NUL characters.',
});
export const ClientId = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[\\x21-\\x7e]+$',
  description: 'Idempotency key chosen by the sender (printable ASCII): a retry with the same key returns the first message with 200',
});
const PublicKey = NullableInput(Type.String({ maxLength: 8192, pattern: '^[^\\u0000]*$' }));

export const SendBody = Type.Object({
  chat_room: Id,
  content: Content,
  public_key: Type.Optional(PublicKey),
  reply_to: Type.Optional(NullableInput(Id)),
  client_id: Type.Optional(ClientId),
  mentions: Type.Optional(Type.Array(Id, { maxItems: 100, description: 'User ids to mention; only active members of the room count, others are ignored' })),
  thread: Type.Optional(NullableInput(Id)),
});

export const EditBody = Type.Object({
  content: Type.Optional(Content),
  public_key: Type.Optional(PublicKey),
});

export const HistoryQuery = Type.Object({
  chat_room: Type.Optional(Id),
  thread: Type.Optional(Id),
  before: Type.Optional(Id),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: '0 starts from the first message' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Default 50; above 100 counts as 100' })),
});

export const HistoryPage = Type.Object({
  next: Nullable(Type.String({ description: 'Older messages (`before` the oldest here), or null at the start of the room' })),
  previous: Nullable(Type.String({ description: 'Newer messages (`after` the newest here), or null when none existed at the time of the request' })),
  results: Type.Array(Message, { description: "A room's messages newest first; a thread's replies oldest first" }),
});
