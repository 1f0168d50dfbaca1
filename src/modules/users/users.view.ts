import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { AppContext } from '../../context.js';
import type { UserRow } from '../../db/schema.js';
import { origin } from '../../http/urls.js';
import type { User } from './users.schemas.js';
import type { Visibility } from './users.visibility.js';

/** An account as `seen` by its viewer (see users.visibility.ts): hidden fields are null. */
export function userView(ctx: AppContext, request: FastifyRequest, u: UserRow, seen: Visibility = 'full'): Static<typeof User> {
  const presence = seen !== 'public';
  return {
    id: u.id,
    username: u.username,
    email: seen === 'full' ? u.email : null,
    first_name: u.first_name,
    last_name: u.last_name,
    bio: u.bio,
    profile_picture: u.profile_picture ? `${origin(request, ctx.config)}/media/${u.profile_picture}` : null,
    status: presence ? (ctx.presence.isOnline(u.id) ? 'online' : 'offline') : null,
    last_seen: presence ? u.last_seen : null,
    date_joined: u.date_joined,
    is_staff: u.is_staff === 1,
  };
}
