import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, Paginated, errors } from '../../http/schemas.js';
import { pageLinks } from '../../http/urls.js';
import { MarkAllResult, Notification, NotificationListQuery, UpdateNotificationBody } from './notifications.schemas.js';
import { NOTIFICATIONS_PAGE_SIZE, type NotificationsService } from './notifications.service.js';

export const notificationsRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; notifications: NotificationsService }> = async (app, { ctx, notifications }) => {
  const tags = ['notifications'];

  app.get('/api/notifications/', {
    schema: {
      tags,
      summary: 'Your notifications, newest first (20 a page)',
      description:
        'Made by the server, never through the API (POST here is 405): a new message from another member (`message`), a reaction to your message ' +
        '(`reaction`), someone joining or leaving one of your rooms or adding you to one (`join`, `leave`). A muted conversation (PATCH /api/user_chats/{id}/ ' +
        '`is_muted`) makes none for you. Each is also pushed to your sockets only, as a `notification` event (`{"type":"notification","id","created_at",' +
        '"chat_room","notification":{...}}`). Notifications of a deleted message, reaction or room are deleted with it. `?is_read=false` lists unread ones.',
      querystring: NotificationListQuery,
      response: { 200: Paginated(Notification), ...errors(400, 401) },
    },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const { count, results } = await notifications.list(request.auth.userId, page, request.query.is_read);
    return { count, ...pageLinks(request, ctx.config, page, NOTIFICATIONS_PAGE_SIZE, count), results };
  });

  app.get('/api/notifications/:id/', {
    schema: { tags, summary: 'One of your notifications', params: IdParams, response: { 200: Notification, ...errors(401, 404) } },
  }, async (request) => notifications.get(request.auth.userId, request.params.id));

  const update = {
    schema: {
      tags,
      summary: 'Mark one of your notifications read or unread (PUT behaves as PATCH)',
      description: "Anyone else's is 404.",
      params: IdParams,
      body: UpdateNotificationBody,
      response: { 200: Notification, ...errors(400, 401, 404) },
    },
  };
  app.patch('/api/notifications/:id/', update, async (request) => notifications.setRead(request.auth.userId, request.params.id, request.body.is_read));
  app.put('/api/notifications/:id/', update, async (request) => notifications.setRead(request.auth.userId, request.params.id, request.body.is_read));

  app.post('/api/notifications/mark_all_read/', {
    schema: { tags, summary: 'Mark all your notifications read', response: { 200: MarkAllResult, ...errors(401) } },
  }, async (request) => ({ marked: await notifications.markAllRead(request.auth.userId) }));

  app.delete('/api/notifications/:id/', {
    schema: { tags, summary: 'Delete one of your notifications', description: "Anyone else's is 404.", params: IdParams, response: { 204: Type.Null(), ...errors(401, 404) } },
  }, async (request, reply) => {
    await notifications.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
