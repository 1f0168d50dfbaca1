import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, errors } from '../../http/schemas.js';
import type { MembershipsService } from './memberships.service.js';
import { AddMembershipBody, Membership, MembershipStatus, UpdateMembershipBody } from './rooms.schemas.js';

export const membershipsRoutes: FastifyPluginAsyncTypebox<{ memberships: MembershipsService }> = async (app, { memberships }) => {
  const tags = ['memberships'];

  app.get('/api/user_chats/', {
    schema: {
      tags,
      summary: 'Your conversations, most recent activity first',
      description: 'Active memberships that are not hidden. A hidden conversation comes back when a new message arrives in it.',
      response: { 200: Type.Array(Membership), ...errors(401) },
    },
  }, async (request) => memberships.list(request.auth.userId));

  app.post('/api/user_chats/', {
    schema: {
      tags,
      summary: 'Add yourself to a public group, or another user to a room you belong to',
      description:
        '201 for a new membership; 200 when an inactive membership is reactivated (or your hidden conversation is shown again). ' +
        'A third member of a private room, or a user who already is a member, is 400.',
      body: AddMembershipBody,
      response: { 201: Membership, 200: Membership, ...errors(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const { membership, created } = await memberships.add(request.auth.userId, request.body);
    return reply.code(created ? 201 : 200).send(membership);
  });

  app.get('/api/user_chats/:id/', {
    schema: { tags, summary: 'One of your memberships', params: IdParams, response: { 200: Membership, ...errors(401, 404) } },
  }, async (request) => memberships.get(request.auth.userId, request.params.id));

  const update = {
    schema: {
      tags,
      summary: 'Move your read position, mark read or unread, hide or show, mute or unmute (PUT behaves as PATCH)',
      description: '`last_seen_message` (a message of this room) moves the read position forward only; `is_read: true` moves it to the latest message. ' +
        '`is_muted: true` stops notifications from this conversation for you (events still arrive on the socket).',
      params: IdParams,
      body: UpdateMembershipBody,
      response: { 200: Membership, ...errors(400, 401, 404) },
    },
  };
  app.patch('/api/user_chats/:id/', update, async (request) => memberships.update(request.auth.userId, request.params.id, request.body));
  app.put('/api/user_chats/:id/', update, async (request) => memberships.update(request.auth.userId, request.params.id, request.body));

  app.delete('/api/user_chats/:id/', {
    schema: {
      tags,
      summary: 'Hide the conversation (soft)',
      description: 'You stay a member; it leaves your list until a new message arrives. To leave a group use POST /api/chat_rooms/{id}/leave/.',
      params: IdParams,
      response: { 204: Type.Null(), ...errors(401, 404) },
    },
  }, async (request, reply) => {
    await memberships.hide(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/api/user_chats/:id/status/', {
    schema: { tags, summary: 'online when any other member is', params: IdParams, response: { 200: MembershipStatus, ...errors(401, 404) } },
  }, async (request) => ({ status: await memberships.status(request.auth.userId, request.params.id) }));
};
