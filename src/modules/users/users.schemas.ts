import { Type } from 'typebox';
import { Nullable } from '../../http/schemas.js';

export const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Nullable(Type.String({ description: 'Shown to the account itself and to staff; null for everyone else' })),
  first_name: Type.String(),
  last_name: Type.String(),
  bio: Type.String(),
  profile_picture: Nullable(Type.String({ description: 'Absolute URL of the image, or null' })),
  status: Nullable(Type.Union([Type.Literal('online'), Type.Literal('offline')], { description: 'Shown to the account itself, staff and people sharing a room with it (who get its live presence too); null for everyone else' })),
  last_seen: Nullable(Type.String({ description: 'ISO-8601 UTC; null when never, or hidden as `status` is' })),
  date_joined: Type.String(),
  is_staff: Type.Boolean({ description: 'true: a member of staff, who may use /api/admin/ (the web client shows its admin page)' }),
});

// Django's username rule: letters, digits and @ . + - _ only, at most 150.
export const Username = Type.String({ minLength: 1, maxLength: 150, pattern: '^[\\w.@+-]+$' });
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 1, maxLength: 256 });
const Name = Type.String({ maxLength: 150 });
const Bio = Type.String({ maxLength: 2000 });
const Picture = Type.Unknown({
  description: 'An image file (multipart) or a `data:image/...;base64,` string; null or "" removes it (update only).',
});

export const SignupBody = Type.Object({
  username: Username,
  email: Email,
  password: Password,
  first_name: Type.Optional(Name),
  last_name: Type.Optional(Name),
  bio: Type.Optional(Bio),
  profile_picture: Type.Optional(Picture),
});

export const ProfileBody = Type.Object({
  username: Type.Optional(Username),
  email: Type.Optional(Email),
  first_name: Type.Optional(Name),
  last_name: Type.Optional(Name),
  bio: Type.Optional(Bio),
  profile_picture: Type.Optional(Picture),
  password: Type.Optional(Type.Unknown({ description: 'Refused: use POST /api/auth/password/.' })),
});

export const UserListQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
  search: Type.Optional(Type.String({ maxLength: 100 })),
});
