import { Type } from 'typebox';
import { Password } from '../users/users.schemas.js';

export const TokenPair = Type.Object({
  access: Type.String({ description: 'Access JWT (Authorization: Bearer …), short-lived' }),
  refresh: Type.String({ description: 'Refresh token: single use, rotated by /api/auth/token/refresh/' }),
});
export const LoginBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Password });
export const RefreshBody = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 2048 }) });
export const PasswordChangeBody = Type.Object({ old_password: Password, new_password: Password });
