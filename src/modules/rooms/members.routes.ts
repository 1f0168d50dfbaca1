import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, Page, Paginated, errors } from '../../http/schemas.js';
import { pageLinks } from '../../http/urls.js';
import { MEMBERS_PAGE_SIZE, type MembersService } from './members.service.js';
import { Member, MemberParams, MemberRoleBody, Role } from './rooms.schemas.js';

export const membersRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; members: MembersService }> = async (app, { ctx, members }) => {
  const tags = ['rooms'];

  app.get('/api/chat_rooms/:id/members/', {
    schema: {
      tags,
      summary: "A room's active members (members only; 20 a page, oldest membership first)",
      description: "Each with `role`, `status` (presence, as on /api/users/{id}/) and `last_seen_message`, the member's read position, for read receipts.",
      params: IdParams,
      querystring: Page,
      response: { 200: Paginated(Member), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const { count, results } = await members.list(request.auth.userId, request.params.id, page);
    return { count, ...pageLinks(request, ctx.config, page, MEMBERS_PAGE_SIZE, count), results };
  });

  app.patch('/api/chat_rooms/:id/members/:user_id/', {
    schema: {
      tags,
      summary: "Change a member's role (the group's owner only)",
      description:
        '`owner` hands the group over: the old owner becomes an admin. Others → 403; not a member → 404; the owner giving ' +
        'up ownership without naming a new owner, or a private room → 400. Members see `member_role_changed`; the person ' +
        'concerned gets a notification.',
      params: MemberParams,
      body: MemberRoleBody,
      response: { 200: Type.Object({ user: Type.Integer(), role: Role }), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => members.changeRole(request.auth.userId, request.params.id, request.params.user_id, request.body.role));

  app.delete('/api/chat_rooms/:id/members/:user_id/', {
    schema: {
      tags,
      summary: 'Remove a member from a group (owner or admin)',
      description:
        'An admin cannot remove the owner or another admin (403); yourself → 400 (leave instead); not a member → 404. The ' +
        'removed user stops receiving the room at once and gets `member_left` with `by` and `kicked: true`, and a notification.',
      params: MemberParams,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    await members.kick(request.auth.userId, request.params.id, request.params.user_id);
    return reply.code(204).send(null);
  });
};
