import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { AppContext } from '../../context.js';
import type { UserRow } from '../../db/schema.js';
import { origin } from '../../http/urls.js';
import type { User } from './users.schemas.js';

export function userView(ctx: AppContext, request: FastifyRequest, u: UserRow): Static<typeof User> {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    first_name: u.first_name,
    last_name: u.last_name,
    bio: u.bio,
    profile_picture: u.profile_picture ? `${origin(request, ctx.config)}/media/${u.profile_picture}` : null,
    status: ctx.presence.isOnline(u.id) ? 'online' : 'offline',
    last_seen: u.last_seen,
    date_joined: u.date_joined,
    is_staff: u.is_staff === 1,
  };
}
