import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, Paginated, errors } from '../../http/schemas.js';
import { pageLinks } from '../../http/urls.js';
import type { AuthService } from '../auth/auth.service.js';
import type { MessagesService } from '../messages/messages.service.js';
import { UserListQuery } from '../users/users.schemas.js';
import { PAGE_SIZE } from '../users/users.service.js';
import { AdminService } from './admin.service.js';
import { AdminUser, Stats } from './admin.schemas.js';
import { adminUserView } from './admin.view.js';
import { requireStaff } from './staff.guard.js';

const STAFF_ONLY =
  'Staff only (`is_staff`; `npm run admin -- createsuperuser` makes one): others → 403, before their input is even ' +
  'validated. The caller\'s account is read on every request, so a demoted or deactivated member of staff loses access at once.';

/** Server administration: the seed's admin site, as JSON for staff. */
export const adminRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; auth: AuthService; messages: MessagesService }> = async (app, { ctx, auth, messages }) => {
  const admin = new AdminService(ctx, auth, messages);
  const tags = ['admin'];
  // This plugin's routes only; runs after the global authentication hook (no token → 401 there).
  app.addHook('onRequest', requireStaff(ctx));

  app.get('/api/admin/users/', {
    schema: {
      tags,
      summary: 'Every account, inactive ones included (20 a page); search matches username, name or email',
      description:
        `${STAFF_ONLY} Each item is the user object plus \`is_active\`. Deleted accounts (DELETE /api/users/{id}/) are ` +
        'left out: they were scrubbed to placeholders and cannot be reactivated, so they are no longer accounts. Oldest first.',
      querystring: UserListQuery,
      response: { 200: Paginated(AdminUser), ...errors(400, 401, 403) },
    },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const { count, rows } = await admin.listUsers(request.query.search, page);
    return { count, ...pageLinks(request, ctx.config, page, PAGE_SIZE, count), results: rows.map((u) => adminUserView(ctx, request, u)) };
  });

  app.post('/api/admin/users/:id/deactivate/', {
    schema: {
      tags,
      summary: 'Deactivate an account: its sessions end and its sockets close at once; log-in is refused',
      description:
        `${STAFF_ONLY} The account is turned off, then every session of it is revoked (on every instance: its access ` +
        'tokens answer 401, its refresh tokens are refused, its sockets close with 4401). Log-in answers 400 with the ' +
        'same message as wrong credentials. Its messages stay. Yourself → 400; another member of staff is allowed; ' +
        'no such account (or a deleted one) → 404. Deactivating an inactive account revokes again and changes nothing else.',
      params: IdParams,
      response: { 200: AdminUser, ...errors(400, 401, 403, 404) },
    },
  }, async (request) => adminUserView(ctx, request, await admin.deactivate(request.auth.userId, request.params.id)));

  app.post('/api/admin/users/:id/reactivate/', {
    schema: {
      tags,
      summary: 'Reactivate a deactivated account: it can log in again',
      description: `${STAFF_ONLY} No such account (or a deleted one, which cannot come back) → 404; an active account is left as it is.`,
      params: IdParams,
      response: { 200: AdminUser, ...errors(401, 403, 404) },
    },
  }, async (request) => adminUserView(ctx, request, await admin.reactivate(request.params.id)));

  app.delete('/api/admin/messages/:id/', {
    schema: {
      tags,
      summary: 'Delete any message, in any room (soft)',
      description:
        `${STAFF_ONLY} As a sender's own delete: the content is cleared, \`is_deleted\` set, and the room's members get ` +
        '`message_deleted`; the message shows `deleted_by` (the staff member, unless they sent it). Deleting again is a no-op. No such message → 404.',
      params: IdParams,
      response: { 204: Type.Null(), ...errors(401, 403, 404) },
    },
  }, async (request, reply) => {
    await admin.deleteMessage(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/api/admin/stats/', {
    schema: {
      tags,
      summary: 'Counts of users, rooms, messages and users online',
      description:
        `${STAFF_ONLY} \`users\`: active accounts; \`rooms\`: private and group conversations; \`messages\`: not deleted; ` +
        '`online`: active accounts with a `user_status` socket open, on any instance (the presence view each instance keeps ' +
        'of all of them, shared over Redis; without Redis there is one instance).',
      response: { 200: Stats, ...errors(401, 403) },
    },
  }, async () => admin.stats());
};
