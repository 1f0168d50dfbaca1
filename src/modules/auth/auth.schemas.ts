import { Type } from 'typebox';
import { Password, User } from '../users/users.schemas.js';

export const TokenPair = Type.Object({
  access: Type.String({ description: 'Access JWT (Authorization: Bearer …), short-lived' }),
  refresh: Type.String({ description: 'Refresh token: single use, rotated by /api/auth/token/refresh/' }),
});
export const LoginBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Password });
export const RefreshBody = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 2048 }) });
export const PasswordChangeBody = Type.Object({ old_password: Password, new_password: Password });

/** The answer of the browser-session routes: the refresh token travels only in the HttpOnly cookie. */
export const BrowserSession = Type.Object({
  access: Type.String({ description: 'Access JWT (Authorization: Bearer …)' }),
  expires_in: Type.Integer({ description: 'Lifetime of `access`, seconds (ACCESS_TOKEN_TTL)' }),
  user: User,
});
export const NoBody = Type.Object({}, { description: 'No body is needed (none is read as {}); an empty JSON object is accepted' });
