import { Type } from 'typebox';
import { User } from '../users/users.schemas.js';

/** A user as staff see it: the public user object (with `email` and `is_staff`) plus `is_active`. */
export const AdminUser = Type.Object({
  ...User.properties,
  is_active: Type.Boolean({ description: 'false: deactivated by staff (log-in refused, sessions revoked); POST …/reactivate/ turns it back on' }),
});

export const Stats = Type.Object({
  users: Type.Integer({ description: 'Active accounts (not deactivated, not deleted)' }),
  rooms: Type.Integer({ description: 'Conversations of every kind: private and group' }),
  messages: Type.Integer({ description: 'Messages not deleted' }),
  online: Type.Integer({ description: 'Active accounts online now (a user_status socket open on any instance)' }),
});
