import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, Page, Paginated, errors } from '../../http/schemas.js';
import { pageLinks } from '../../http/urls.js';
import { CreateRoomBody, Room, UpdateRoomBody } from './rooms.schemas.js';
import { ROOMS_PAGE_SIZE, type RoomsService } from './rooms.service.js';

export const roomsRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; rooms: RoomsService }> = async (app, { ctx, rooms }) => {
  const tags = ['rooms'];

  app.get('/api/chat_rooms/', {
    schema: { tags, summary: 'Rooms you belong to, and public groups (20 a page, by id)', querystring: Page, response: { 200: Paginated(Room), ...errors(400, 401) } },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const { count, results } = await rooms.list(request.auth.userId, page);
    return { count, ...pageLinks(request, ctx.config, page, ROOMS_PAGE_SIZE, count), results };
  });

  app.post('/api/chat_rooms/', {
    schema: {
      tags,
      summary: 'Create a room; you become its owner',
      description:
        'A group is public (anyone may find and join it) unless `is_public` is false; then members add people. ' +
        'A private room holds you and at most one other user (`members: [id]`); asking again for the same pair returns the existing room with 200. ' +
        'A private room created without `members` takes its second member through POST /api/user_chats/. ' +
        '`is_encrypted: true` makes it end-to-end encrypted (see PATCH); asking so for a pair whose private room exists unencrypted turns that room on (`room_updated`).',
      body: CreateRoomBody,
      response: { 201: Room, 200: Room, ...errors(400, 401) },
    },
  }, async (request, reply) => {
    const { room, created } = await rooms.create(request.auth.userId, request.body);
    return reply.code(created ? 201 : 200).send(room);
  });

  app.get('/api/chat_rooms/:id/', {
    schema: { tags, summary: 'Retrieve a room (members; anyone for a public group)', params: IdParams, response: { 200: Room, ...errors(401, 404) } },
  }, async (request) => rooms.get(request.auth.userId, request.params.id));

  const update = {
    schema: {
      tags,
      summary: 'Change a room (members; PUT behaves as PATCH)',
      description:
        'Members rename a group. `room_type: "group"` turns a private room that has no messages yet into a (non-public) group, ' +
        'as the seed collection does before anyone writes; a private conversation with messages answers 400 (its history would ' +
        'show to everyone added later: start a group instead). A group cannot become private. ' +
        'Only the owner changes `is_public`. A public group you have not joined answers 403. ' +
        '`is_encrypted: true` turns end-to-end encryption on, for good: a group\'s owner only (403 for other members), any member of a private room; ' +
        '`is_encrypted: false` on an encrypted room → 400 `{"is_encrypted": [...]}`. The room\'s members receive `room_updated` with the room. ' +
        'An encrypted room is never searched, and takes `file_type: "encrypted"` attachments.',
      params: IdParams,
      body: UpdateRoomBody,
      response: { 200: Room, ...errors(400, 401, 403, 404) },
    },
  };
  app.patch('/api/chat_rooms/:id/', update, async (request) => rooms.update(request.auth.userId, request.params.id, request.body));
  app.put('/api/chat_rooms/:id/', update, async (request) => rooms.update(request.auth.userId, request.params.id, request.body));

  app.delete('/api/chat_rooms/:id/', {
    schema: {
      tags,
      summary: 'Delete a room (owner only)',
      description: 'Deletes the room with its memberships and messages for everyone; members receive a `room_deleted` event.',
      params: IdParams,
      response: { 204: Type.Null(), ...errors(401, 403, 404) },
    },
  }, async (request, reply) => {
    await rooms.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/api/chat_rooms/:id/join/', {
    schema: {
      tags,
      summary: 'Join a public group',
      description:
        'Any other room answers 400 (404 if you cannot see it). Joining a public group you are already in is a no-op (and not counted). Messages from before you joined count as read. ' +
        'Joins and leaves together are limited per user: RATE_LIMIT_JOIN_LEAVE_PER_USER a minute (default 20; 0 = off), 429 with Retry-After beyond. ' +
        "The group's members are notified of your joining at most once per NOTIFY_JOIN_LEAVE_WINDOW seconds (default 3600; 0 = every time); the `member_joined` event always goes to the room.",
      params: IdParams,
      response: { 200: Room, ...errors(400, 401, 404, 429) },
    },
  }, async (request) => rooms.join(request.auth.userId, request.params.id));

  app.post('/api/chat_rooms/:id/leave/', {
    schema: {
      tags,
      summary: 'Leave a group',
      description:
        'Private rooms cannot be left (400; hide them with DELETE /api/user_chats/{id}/). An owner who leaves hands the group to its longest-standing admin, or else member. ' +
        'Counted with joins: RATE_LIMIT_JOIN_LEAVE_PER_USER a minute (default 20; 0 = off), 429 with Retry-After beyond. ' +
        "Members are notified of your leaving at most once per NOTIFY_JOIN_LEAVE_WINDOW seconds (default 3600; 0 = every time); the `member_left` event always goes to the room.",
      params: IdParams,
      response: { 204: Type.Null(), ...errors(400, 401, 404, 429) },
    },
  }, async (request, reply) => {
    await rooms.leave(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
