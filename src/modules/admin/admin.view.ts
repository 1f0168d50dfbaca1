import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { AppContext } from '../../context.js';
import type { UserRow } from '../../db/schema.js';
import { userView } from '../users/users.view.js';
import type { AdminUser } from './admin.schemas.js';

export function adminUserView(ctx: AppContext, request: FastifyRequest, u: UserRow): Static<typeof AdminUser> {
  return { ...userView(ctx, request, u), is_active: u.is_active === 1 };
}
