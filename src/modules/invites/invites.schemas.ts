import { Type } from 'typebox';
import { Id, Nullable } from '../../http/schemas.js';

/** Bounds of a new invite (400 outside them). */
export const MAX_USES_LIMIT = 10_000;
export const EXPIRES_IN_MIN = 60;
export const EXPIRES_IN_MAX = 365 * 24 * 60 * 60;

/** 12 random bytes in base64url: 16 characters, 96 bits. */
export const CODE_LENGTH = 16;
export const InviteCode = Type.String({
  minLength: CODE_LENGTH,
  maxLength: CODE_LENGTH,
  pattern: `^[A-Za-z0-9_-]{${CODE_LENGTH}}$`,
  description: `${CODE_LENGTH} URL-safe characters (A-Z a-z 0-9 _ -); anything else is 400`,
});

// `invite_code`, not `code`: an invalid path parameter is reported under its name, and `code` is
// the error body's own key (`{"detail", "code"}`).
export const InviteCodeParams = Type.Object({ invite_code: InviteCode });
export const RoomInviteParams = Type.Object({ id: Id, invite_code: InviteCode });

/**
 * An integer within bounds, or null: one JSON-schema type list, not a union. With Fastify's type
 * coercion a union would turn an out-of-bounds 0 into null (unlimited) instead of refusing it.
 */
const BoundedOrNull = (o: { minimum: number; maximum: number; description: string }) => Type.Unsafe<number | null>({ type: ['integer', 'null'], ...o });

export const CreateInviteBody = Type.Object({
  max_uses: Type.Optional(
    BoundedOrNull({ minimum: 1, maximum: MAX_USES_LIMIT, description: `How many people may join with it, 1–${MAX_USES_LIMIT}; null or absent: unlimited` }),
  ),
  expires_in: Type.Optional(
    BoundedOrNull({
      minimum: EXPIRES_IN_MIN,
      maximum: EXPIRES_IN_MAX,
      description: `Seconds until it expires, ${EXPIRES_IN_MIN} (a minute) to ${EXPIRES_IN_MAX} (365 days); null or absent: never`,
    }),
  ),
});

export const Invite = Type.Object({
  code: InviteCode,
  chat_room: Type.Integer(),
  created_by: Nullable(Type.Integer({ description: 'null once that account is deleted' })),
  created_at: Type.String(),
  expires_at: Nullable(Type.String({ description: 'ISO-8601; null: never expires' })),
  max_uses: Nullable(Type.Integer({ description: 'null: unlimited' })),
  uses: Type.Integer({ description: 'People who joined with it (accepting while already a member does not count)' }),
});

export const InvitePreview = Type.Object({
  chat_room: Type.Object({ id: Type.Integer(), name: Type.String(), member_count: Type.Integer() }),
  expires_at: Nullable(Type.String({ description: 'ISO-8601; null: never expires' })),
});
