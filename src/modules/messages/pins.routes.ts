import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, errors } from '../../http/schemas.js';
import { Message } from './messages.schemas.js';
import { MAX_PINS_PER_ROOM, type PinsService } from './pins.service.js';

export const pinsRoutes: FastifyPluginAsyncTypebox<{ pins: PinsService }> = async (app, { pins }) => {
  const pin = (pinned: boolean) => ({
    schema: {
      tags: ['messages'],
      summary: pinned ? 'Pin a message for its room' : 'Unpin a message',
      description:
        'Any member of a private conversation; in a group its owner or an admin (403 for members). The room sees ' +
        `\`${pinned ? 'message_pinned' : 'message_unpinned'}\` with the message. Doing it again changes nothing (200, no event). ` +
        (pinned ? `A deleted message, or a room already holding ${MAX_PINS_PER_ROOM} pins → 400. Deleting a message unpins it.` : ''),
      params: IdParams,
      response: { 200: Message, ...errors(400, 401, 403, 404) },
    },
  });
  app.post('/api/messages/:id/pin/', pin(true), async (request) => pins.set(request.auth.userId, request.params.id, true));
  app.delete('/api/messages/:id/pin/', pin(false), async (request) => pins.set(request.auth.userId, request.params.id, false));

  app.get('/api/chat_rooms/:id/pins/', {
    schema: {
      tags: ['rooms'],
      summary: "A room's pinned messages, newest pin first (members only)",
      description: `At most ${MAX_PINS_PER_ROOM}, so not paginated.`,
      params: IdParams,
      response: { 200: Type.Array(Message), ...errors(401, 403, 404) },
    },
  }, async (request) => pins.list(request.auth.userId, request.params.id));
};
