// Seed-0 chat and message routes, as thin adapters over the same services (and the same
// authorization: a room the caller cannot see is 404 here too).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Id, errors } from '../http/schemas.js';
import { Content, ClientId, Message } from '../modules/messages/messages.schemas.js';
import type { MessagesService } from '../modules/messages/messages.service.js';
import { Room, RoomName } from '../modules/rooms/rooms.schemas.js';
import type { RoomsService } from '../modules/rooms/rooms.service.js';

const CHATS_PAGE_SIZE = 100;
const MESSAGES_DEFAULT = 100;

export const chatRoutes: FastifyPluginAsyncTypebox<{ rooms: RoomsService; messages: MessagesService }> = async (app, { rooms, messages }) => {
  const tags = ['seed-0'];

  app.post('/chat/', {
    schema: { tags, summary: 'Create a public group (seed 0)', body: Type.Object({ chat_name: RoomName }), response: { 201: Room, ...errors(400, 401) } },
  }, async (request, reply) => {
    const { room } = await rooms.create(request.auth.userId, { room_type: 'group', name: request.body.chat_name, is_public: true });
    return reply.code(201).send(room);
  });

  app.get('/chat/', {
    schema: {
      tags,
      summary: 'Rooms you belong to, and public groups (seed 0): an array, 100 a page by id',
      querystring: Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) }),
      response: { 200: Type.Array(Room), ...errors(400, 401) },
    },
  }, async (request) => (await rooms.listPage(request.auth.userId, request.query.page ?? 1, CHATS_PAGE_SIZE)).results);

  app.post('/message/', {
    schema: {
      tags,
      summary: 'Send a message (seed 0); joins a public group first if needed',
      description: 'Same rules as POST /api/messages/ (content limit 413, optional `client_id` → 200 on a retry), except that a public group is joined instead of refused.',
      body: Type.Object({ chatid: Id, message: Content, client_id: Type.Optional(ClientId) }),
      response: { 201: Message, 200: Message, ...errors(400, 401, 404, 409, 413, 429) },
    },
  }, async (request, reply) => {
    const { chatid, message, client_id } = request.body;
    const sent = await messages.send(request.auth.userId, { chat_room: chatid, content: message, client_id }, { joinPublicGroup: true });
    return reply.code(sent.created ? 201 : 200).send(sent.message);
  });

  app.get('/message/', {
    schema: {
      tags,
      summary: "A room's messages, oldest first (seed 0; members only)",
      description: 'The latest `limit` (default 100, at most 100) messages; `before=ID` pages back. A public group you have not joined is 403.',
      querystring: Type.Object({
        chat_id: Id,
        before: Type.Optional(Id),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
      }),
      response: { 200: Type.Array(Message), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const { chat_id, before, limit } = request.query;
    const page = await messages.history(request.auth.userId, { chat_room: chat_id, before, limit: limit ?? MESSAGES_DEFAULT });
    return page.results.reverse();
  });
};
