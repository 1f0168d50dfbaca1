import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, Page, Paginated, errors } from '../../http/schemas.js';
import { pageLinks } from '../../http/urls.js';
import { Membership } from '../rooms/rooms.schemas.js';
import { CreateInviteBody, EXPIRES_IN_MAX, EXPIRES_IN_MIN, Invite, InviteCodeParams, InvitePreview, MAX_USES_LIMIT, RoomInviteParams } from './invites.schemas.js';
import { INVITES_PAGE_SIZE, type InvitesService } from './invites.service.js';

const WHO =
  'For the owner or an admin of a group, public or not; a member → 403, a public group you have not joined → 403, ' +
  'a room you cannot see → 404, a private room → 400.';
const DEAD = 'An unknown, expired, used-up or revoked code → 404; a code that is not 16 URL-safe characters → 400.';

export const invitesRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; invites: InvitesService }> = async (app, { ctx, invites }) => {
  const tags = ['invites'];
  const roomTags = ['rooms'];

  app.post('/api/chat_rooms/:id/invites/', {
    schema: {
      tags: roomTags,
      summary: 'Create an invite link to a group (owner or admin)',
      description:
        `${WHO} The body is a JSON object (\`{}\`: unlimited, never expires): \`max_uses\` 1–${MAX_USES_LIMIT} (null or ` +
        `absent: unlimited); \`expires_in\` in seconds, ${EXPIRES_IN_MIN} to ${EXPIRES_IN_MAX} (365 days; null or absent: never); ` +
        'anything else → 400. The `code` is 96 random bits in base64url. ' +
        'An invite stays usable when the admin who made it is no longer one: revoke it.',
      params: IdParams,
      body: CreateInviteBody,
      response: { 201: Invite, ...errors(400, 401, 403, 404) },
    },
  }, async (request, reply) => reply.code(201).send(await invites.create(request.auth.userId, request.params.id, request.body)));

  app.get('/api/chat_rooms/:id/invites/', {
    schema: {
      tags: roomTags,
      summary: "A group's usable invites, newest first (owner or admin; 20 a page)",
      description:
        `Not in the original API: the web client lists the links to copy and revoke. ${WHO} Expired, used-up and revoked ` +
        'invites are left out.',
      params: IdParams,
      querystring: Page,
      response: { 200: Paginated(Invite), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const { count, results } = await invites.list(request.auth.userId, request.params.id, page);
    return { count, ...pageLinks(request, ctx.config, page, INVITES_PAGE_SIZE, count), results };
  });

  app.delete('/api/chat_rooms/:id/invites/:invite_code/', {
    schema: {
      tags: roomTags,
      summary: 'Revoke an invite (owner or admin)',
      description: `${WHO} ${DEAD} A code of another room → 404. People who joined with it stay members.`,
      params: RoomInviteParams,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    await invites.revoke(request.auth.userId, request.params.id, request.params.invite_code);
    return reply.code(204).send(null);
  });

  app.get('/api/invites/:invite_code/', {
    schema: {
      tags,
      summary: 'Which group an invite opens (any logged-in user)',
      description: `The group's id, name and member count, and when the invite expires. ${DEAD}`,
      params: InviteCodeParams,
      response: { 200: InvitePreview, ...errors(400, 401, 404) },
    },
  }, async (request) => invites.preview(request.params.invite_code));

  app.post('/api/invites/:invite_code/accept/', {
    schema: {
      tags,
      summary: 'Join a group with an invite',
      description:
        'Answers your membership as /api/user_chats/ shows it; the members get `member_joined`, and messages from before ' +
        'you joined count as read. Already a member: 200 with your membership, no use counted. A user banned from the ' +
        `group → 403. The use is counted in the same transaction as the join, so \`max_uses\` holds under concurrent accepts. ${DEAD}`,
      params: InviteCodeParams,
      response: { 200: Membership, ...errors(400, 401, 403, 404) },
    },
  }, async (request) => invites.accept(request.auth.userId, request.params.invite_code));
};
