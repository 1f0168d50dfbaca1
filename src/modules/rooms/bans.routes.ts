import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, Page, Paginated, errors } from '../../http/schemas.js';
import { pageLinks } from '../../http/urls.js';
import { BANS_PAGE_SIZE, type BansService } from './bans.service.js';
import { Ban, BanBody, MemberParams } from './rooms.schemas.js';

export const bansRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; bans: BansService }> = async (app, { ctx, bans }) => {
  const tags = ['rooms'];

  app.post('/api/chat_rooms/:id/bans/', {
    schema: {
      tags,
      summary: 'Ban a user from a group (owner or admin)',
      description:
        'A member is removed at once (the room sees `member_left` with `kicked` and `banned`); anyone else with an account can ' +
        'be banned before they come in. Then `member_banned` with the reason. A banned user cannot join, be added or use an ' +
        'invite (403). Banning yourself or the owner → 400; an admin banning another admin → 403; a plain member → 403; ' +
        'a private room → 400; no such user → 400. Banning again replaces the reason.',
      params: IdParams,
      body: BanBody,
      response: { 201: Ban, ...errors(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const ban = await bans.ban(request.auth.userId, request.params.id, request.body.user, request.body.reason ?? '');
    return reply.code(201).send(ban);
  });

  app.get('/api/chat_rooms/:id/bans/', {
    schema: {
      tags,
      summary: "A group's bans (owner or admin; newest first, 20 a page)",
      params: IdParams,
      querystring: Page,
      response: { 200: Paginated(Ban), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const { count, results } = await bans.list(request.auth.userId, request.params.id, page);
    return { count, ...pageLinks(request, ctx.config, page, BANS_PAGE_SIZE, count), results };
  });

  app.delete('/api/chat_rooms/:id/bans/:user_id/', {
    schema: {
      tags,
      summary: 'Lift a ban (owner or admin)',
      description: 'The user may join or be added again (they are not added back). The room sees `member_unbanned`. Not banned → 404.',
      params: MemberParams,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    await bans.unban(request.auth.userId, request.params.id, request.params.user_id);
    return reply.code(204).send(null);
  });
};
