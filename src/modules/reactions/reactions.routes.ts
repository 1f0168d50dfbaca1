import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, errors } from '../../http/schemas.js';
import { CreateReactionBody, Reaction, ReactionListQuery, UpdateReactionBody } from './reactions.schemas.js';
import type { ReactionsService } from './reactions.service.js';

export const reactionsRoutes: FastifyPluginAsyncTypebox<{ reactions: ReactionsService }> = async (app, { reactions }) => {
  const tags = ['reactions'];

  app.get('/api/reactions/', {
    schema: {
      tags,
      summary: "A message's reactions, oldest first (members of its room)",
      description: 'An array (not paginated: at most one reaction per member). `message` is required (400 without it); a message you cannot see is 404.',
      querystring: ReactionListQuery,
      response: { 200: Type.Array(Reaction), ...errors(400, 401, 404) },
    },
  }, async (request) => reactions.list(request.auth.userId, request.query.message));

  app.post('/api/reactions/', {
    schema: {
      tags,
      summary: 'React to a message',
      description:
        'One reaction per user per message: a second is 400 (change the first with PATCH). Not on a deleted message (400). ' +
        'Members of the room only (404 otherwise). The room receives a `reaction` event (`action: "added"`); the message\'s sender gets a notification.',
      body: CreateReactionBody,
      response: { 201: Reaction, ...errors(400, 401, 404) },
    },
  }, async (request, reply) => reply.code(201).send(await reactions.create(request.auth.userId, request.body)));

  app.get('/api/reactions/:id/', {
    schema: { tags, summary: 'A reaction (members of its room)', params: IdParams, response: { 200: Reaction, ...errors(401, 404) } },
  }, async (request) => reactions.get(request.auth.userId, request.params.id));

  const update = {
    schema: {
      tags,
      summary: 'Change your reaction (PUT behaves as PATCH)',
      description: 'Its author only (403 for other members, 404 for anyone else). The room receives a `reaction` event (`action: "changed"`).',
      params: IdParams,
      body: UpdateReactionBody,
      response: { 200: Reaction, ...errors(400, 401, 403, 404) },
    },
  };
  app.patch('/api/reactions/:id/', update, async (request) => reactions.update(request.auth.userId, request.params.id, request.body.reaction_type));
  app.put('/api/reactions/:id/', update, async (request) => reactions.update(request.auth.userId, request.params.id, request.body.reaction_type));

  app.delete('/api/reactions/:id/', {
    schema: {
      tags,
      summary: 'Remove your reaction',
      description: 'Its author only (403 for other members, 404 for anyone else). The room receives a `reaction` event (`action: "removed"`).',
      params: IdParams,
      response: { 204: Type.Null(), ...errors(401, 403, 404) },
    },
  }, async (request, reply) => {
    await reactions.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
