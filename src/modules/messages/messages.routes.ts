import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, errors } from '../../http/schemas.js';
import { requestUrl } from '../../http/urls.js';
import { EditBody, HistoryPage, HistoryQuery, Message, SendBody } from './messages.schemas.js';
import type { MessagesService } from './messages.service.js';

/** This request's URL with one cursor set (and the other removed). */
function cursorLink(request: FastifyRequest, ctx: AppContext, name: 'before' | 'after', id: number | null): string | null {
  if (id === null) return null;
  const url = requestUrl(request, ctx.config);
  url.searchParams.delete('before');
  url.searchParams.delete('after');
  url.searchParams.set(name, String(id));
  return url.toString();
}

export const messagesRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; messages: MessagesService }> = async (app, { ctx, messages }) => {
  const tags = ['messages'];

  app.post('/api/messages/', {
    schema: {
      tags,
      summary: 'Send a message',
      description:
        '201 once the message is committed. A `client_id` already used by you returns that first message with 200 and stores nothing ' +
        '(409 if it was used in another room). `reply_to` must be a message of the same room. Content over MESSAGE_MAX_BYTES → 413. ' +
        'A public group you have not joined → 403; a room you cannot see → 404. Membership is checked in the transaction that stores the message, ' +
        'so a send racing your leaving or removal is either committed before it (its event comes first) or refused. ' +
        'With RATE_LIMIT_MESSAGES_PER_USER set, sends beyond it per minute → 429. ' +
        '`thread`: a top-level message of the same room (else 400); the reply is listed in that thread only, and the root\'s ' +
        '`thread_summary` change is sent as `message_updated`. `mentions` (user ids) and, outside encrypted rooms, `@username` in the text mention ' +
        'active members of the room (anyone else is ignored): each gets a `mention` notification, also when the room is muted ' +
        '(and no `message` one). Mentions are fixed when sent: an edit does not change them.',
      body: SendBody,
      response: { 201: Message, 200: Message, ...errors(400, 401, 403, 404, 409, 413, 429) },
    },
  }, async (request, reply) => {
    const { message, created } = await messages.send(request.auth.userId, request.body);
    return reply.code(created ? 201 : 200).send(message);
  });

  app.get('/api/messages/', {
    schema: {
      tags,
      summary: "A room's top-level messages, newest first, or a thread's replies, oldest first (members only)",
      description:
        'Exactly one of `chat_room` and `thread` (400 otherwise). `chat_room`: thread replies are left out. Without cursors: the newest ' +
        '`limit` messages. `before=ID`: the newest `limit` older than ID. `after=ID`: the first `limit` newer than ID (so following ' +
        '`previous` walks forward without gaps). `next` links to older messages, `previous` to newer ones. `thread=ROOT_ID` (a ' +
        'top-level message; a reply → 400): its replies oldest first, from the first one unless a cursor is given, with the same ' +
        'cursors and links. Deleted messages stay in place with empty content and `is_deleted: true`.',
      querystring: HistoryQuery,
      response: { 200: HistoryPage, ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const page = await messages.history(request.auth.userId, request.query);
    return { next: cursorLink(request, ctx, 'before', page.older), previous: cursorLink(request, ctx, 'after', page.newer), results: page.results };
  });

  app.get('/api/messages/:id/', {
    schema: { tags, summary: 'Retrieve a message (members of its room)', params: IdParams, response: { 200: Message, ...errors(401, 404) } },
  }, async (request) => messages.get(request.auth.userId, request.params.id));

  const edit = {
    schema: {
      tags,
      summary: 'Edit your message (PUT behaves as PATCH); sets is_edited',
      description: 'Sender only (403 for other members). A deleted message cannot be edited (400).',
      params: IdParams,
      body: EditBody,
      response: { 200: Message, ...errors(400, 401, 403, 404, 413) },
    },
  };
  app.patch('/api/messages/:id/', edit, async (request) => messages.edit(request.auth.userId, request.params.id, request.body));
  app.put('/api/messages/:id/', edit, async (request) => messages.edit(request.auth.userId, request.params.id, request.body));

  app.delete('/api/messages/:id/', {
    schema: {
      tags,
      summary: 'Delete your message (soft)',
      description: 'The sender, or in a group its owner or an admin (403 for other members; the message then shows `deleted_by`). The content is cleared and `is_deleted` set; the message keeps its place in the history. Deleting again is a no-op.',
      params: IdParams,
      response: { 204: Type.Null(), ...errors(401, 403, 404) },
    },
  }, async (request, reply) => {
    await messages.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
