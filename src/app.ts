// buildApp(config): storage, bus, services and every route. Never listens: server.ts and tests do.
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { registerAuthHook } from './http/auth-hook.js';
import { registerBodyParsing } from './http/body.js';
import { registerTooLargeHandling } from './http/too-large.js';
import { registerErrorHandler, sendError } from './http/error-handler.js';
import { healthRoutes } from './http/health.routes.js';
import { registerMetrics } from './http/metrics.js';
import { registerNotFound } from './http/not-found.js';
import { webRoutes } from './http/web.js';
import { registerHostCheck } from './http/urls.js';
import { PasswordHasher } from './lib/passwords.js';
import { MemoryRateLimiter, RedisRateLimiter } from './lib/rate-limit.js';
import { FallbackRateLimiter } from './lib/rate-limit-fallback.js';
import { loadSigningSecret } from './lib/secret.js';
import { LocalFileStore } from './lib/storage.js';
import { TokenSigner } from './lib/tokens.js';
import { AuthService } from './modules/auth/auth.service.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { browserSessionRoutes } from './modules/auth/browser-session.routes.js';
import { Revocations } from './modules/auth/revocations.js';
import { UsersService } from './modules/users/users.service.js';
import { usersRoutes } from './modules/users/users.routes.js';
import { userauthRoutes } from './compat/userauth.routes.js';
import { chatRoutes } from './compat/chat.routes.js';
import { MessagesService } from './modules/messages/messages.service.js';
import { messagesRoutes } from './modules/messages/messages.routes.js';
import { searchRoutes } from './modules/search/search.routes.js';
import { PinsService } from './modules/messages/pins.service.js';
import { pinsRoutes } from './modules/messages/pins.routes.js';
import { MembershipsService } from './modules/rooms/memberships.service.js';
import { membershipsRoutes } from './modules/rooms/memberships.routes.js';
import { RoomsService } from './modules/rooms/rooms.service.js';
import { roomsRoutes } from './modules/rooms/rooms.routes.js';
import { MembersService } from './modules/rooms/members.service.js';
import { membersRoutes } from './modules/rooms/members.routes.js';
import { BansService } from './modules/rooms/bans.service.js';
import { bansRoutes } from './modules/rooms/bans.routes.js';
import { InvitesService } from './modules/invites/invites.service.js';
import { invitesRoutes } from './modules/invites/invites.routes.js';
import { MemoryBus } from './realtime/bus.memory.js';
import { RedisBus } from './realtime/bus.redis.js';
import { registerOpenApi } from './http/openapi.js';
import { Gateway } from './realtime/gateway.js';
import { EventHandlers } from './modules/events/unit-of-work.js';
import { Writer } from './modules/events/writer.js';
import { gatewayRoutes } from './realtime/gateway.routes.js';
import { MemoryTicketStore, RedisTicketStore } from './realtime/tickets.js';
import { AttachmentsService } from './modules/attachments/attachments.service.js';
import { attachmentsRoutes } from './modules/attachments/attachments.routes.js';
import { DownloadLinks } from './modules/attachments/attachments.links.js';
import { UrlSigner } from './lib/url-signing.js';
import { ReactionsService } from './modules/reactions/reactions.service.js';
import { reactionsRoutes } from './modules/reactions/reactions.routes.js';
import { NotificationsService } from './modules/notifications/notifications.service.js';
import { notificationsRoutes } from './modules/notifications/notifications.routes.js';
import { KeysService } from './modules/keys/keys.service.js';
import { keysRoutes } from './modules/keys/keys.routes.js';
import { DevicesService } from './modules/keys/devices.service.js';
import { devicesRoutes } from './modules/keys/devices.routes.js';
import { ToDeviceService } from './modules/keys/to-device.service.js';
import { toDeviceRoutes } from './modules/keys/to-device.routes.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { clientConfigRoutes } from './modules/client-config/client-config.routes.js';
import { ORPHAN_AGE_MS, sweepOrphanedUploads } from './modules/uploads/orphans.js';

export type App = FastifyInstance;

export async function buildApp(config: Readonly<Config>): Promise<App> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Never log credentials; request URLs are logged without their query string (tickets).
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; id: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0], ip: req.ip }),
      },
    },
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    ajv: { customOptions: { allErrors: true } },
    forceCloseConnections: 'idle',
    // A client that stalls its headers or body is cut off (Fastify would otherwise turn Node's
    // own request timeout off). Node checks the deadlines every connectionsCheckingInterval.
    serverFactory: (handler) =>
      http.createServer(
        {
          requestTimeout: config.http.requestTimeoutMs,
          headersTimeout: config.http.headersTimeoutMs,
          connectionsCheckingInterval: Math.max(50, Math.min(config.http.headersTimeoutMs, config.http.requestTimeoutMs || Infinity, 30_000) / 4),
        },
        handler,
      ),
    // Errors the router raises before any route matches (a malformed percent-encoding, a path
    // segment over 100 characters): the same JSON error shape as everything else.
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      sendError(reply, err, request);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // While shutting down, answers close their connection, so keep-alive clients do not hold the exit.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  // An answer that began before shutdown (a download still streaming) kept its keep-alive: once it
  // has gone out, close the connection it leaves idle, or it would hold the exit for the keep-alive timeout.
  app.addHook('onResponse', async () => {
    if (closing) setImmediate(() => app.server.closeIdleConnections());
  });
  registerBodyParsing(app);
  registerTooLargeHandling(app);

  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    sqlitePath: config.sqlitePath,
    poolSize: config.dbPoolSize,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    onError: (err) => app.log.warn({ err: err.message }, 'idle database connection lost'),
  });
  const redisBus = config.redisUrl ? new RedisBus(config.redisUrl, app.log, config.redisPrefix) : null;
  try {
    await migrateToLatest(database);
    await redisBus?.connect();
  } catch (err) {
    await Promise.allSettled([database.close(), redisBus?.close()]);
    throw err;
  }
  const bus = redisBus ?? new MemoryBus(app.log);
  const signingSecret = loadSigningSecret(config.jwtSecret, config.dataDir);
  const tokens = new TokenSigner(signingSecret, config.accessTokenTtlSec, config.refreshTokenTtlSec);
  const revocations = new Revocations(database.db, bus, config.accessTokenTtlSec * 1000, app.log);
  await revocations.start();

  const limiter = redisBus
    ? new FallbackRateLimiter(new RedisRateLimiter(redisBus.client, `${config.redisPrefix}rl:`), new MemoryRateLimiter(), () => redisBus.client.status === 'ready', app.log)
    : new MemoryRateLimiter();
  // The gateway first: the writer tells its log tail of every commit, and services read presence.
  const gateway = new Gateway({ config, db: database.db, bus, log: app.log, revocations });
  const handlers = new EventHandlers();
  const ctx: AppContext = {
    config,
    db: database.db,
    bus,
    limiter,
    hasher: new PasswordHasher(config.passwordHashConcurrency),
    tokens,
    revocations,
    store: new LocalFileStore(path.join(config.dataDir, 'uploads')),
    writer: new Writer(database.db, handlers, config.writes, app.log, (written) => gateway.tail.committed(written)),
    presence: gateway.presence,
    log: app.log,
  };
  const auth = new AuthService(ctx);
  const users = new UsersService(ctx, auth);

  app.addHook('onClose', async () => {
    await revocations.stop();
    await bus.close();
    await database.close();
  });

  await registerOpenApi(app);
  registerErrorHandler(app);
  registerNotFound(app);
  registerMetrics(app, config.metricsToken);
  registerHostCheck(app, config);
  registerAuthHook(app, auth);

  await app.register(healthRoutes, { ctx });
  await app.register(webRoutes, { config });
  await app.register(clientConfigRoutes, { ctx });
  await app.register(authRoutes, { ctx, auth });
  await app.register(browserSessionRoutes, { ctx, auth });
  await app.register(usersRoutes, { ctx, users });
  await app.register(userauthRoutes, { ctx, users, auth });
  const rooms = new RoomsService(ctx);
  const messages = new MessagesService(ctx);
  await app.register(roomsRoutes, { ctx, rooms });
  await app.register(membersRoutes, { ctx, members: new MembersService(ctx) });
  await app.register(bansRoutes, { ctx, bans: new BansService(ctx) });
  const memberships = new MembershipsService(ctx);
  await app.register(invitesRoutes, { ctx, invites: new InvitesService(ctx, memberships) });
  await app.register(membershipsRoutes, { memberships });
  await app.register(messagesRoutes, { ctx, messages });
  await app.register(searchRoutes, { ctx });
  await app.register(pinsRoutes, { pins: new PinsService(ctx) });
  await app.register(chatRoutes, { rooms, messages });
  const attachments = new AttachmentsService(ctx);
  const reactions = new ReactionsService(ctx);
  const notifications = new NotificationsService(ctx);
  await app.register(attachmentsRoutes, { ctx, attachments, links: new DownloadLinks(new UrlSigner(signingSecret, 'attachment-download')) });
  await app.register(reactionsRoutes, { reactions });
  await app.register(notificationsRoutes, { ctx, notifications });
  await app.register(keysRoutes, { keys: new KeysService(ctx) });
  await app.register(devicesRoutes, { devices: new DevicesService(ctx), maxDevices: config.e2eeMaxDevicesPerUser });
  await app.register(toDeviceRoutes, { toDevice: new ToDeviceService(ctx), queueMax: config.toDeviceQueueMax });
  await app.register(adminRoutes, { ctx, auth, messages });

  // What a change's events do in its own transaction, in one place.
  handlers
    .on(['new_message', 'member_joined', 'member_left', 'member_role_changed', 'member_banned', 'member_unbanned', 'room_created', 'reaction'], (uow, e) => notifications.onEvent(uow, e))
    .on('message_deleted', (uow, e) => attachments.onMessageDeleted(uow, e.messageId!))
    .on('message_deleted', (uow, e) => reactions.onMessageDeleted(uow, e.messageId!))
    .on('message_deleted', (uow, e) => notifications.onMessageDeleted(uow, e.messageId!))
    .on('message_deleted', (uow, e) => notifications.onEvent(uow, e))
    .on('room_deleted', (uow, e) => attachments.onRoomDeleted(uow, e.chatRoomId));

  const tickets = redisBus ? new RedisTicketStore(redisBus.client, `${config.redisPrefix}ticket:`) : new MemoryTicketStore();
  await app.register(gatewayRoutes, { auth, gateway, tickets, limiter: ctx.limiter, maxSockets: config.realtime.maxSocketsPerUser });
  await gateway.start({ markRead: (userId, chatRoomId, messageId) => memberships.markRead(userId, chatRoomId, messageId) });
  app.addHook('preClose', () => gateway.stop());

  // Hourly: files of uploads whose row never committed (the sweep only takes files older than that).
  const sweeper = setInterval(() => {
    sweepOrphanedUploads(ctx)
      .then((removed) => removed && app.log.info({ removed }, 'removed orphaned uploads'))
      .catch((err) => app.log.warn({ err }, 'sweeping orphaned uploads failed'));
  }, ORPHAN_AGE_MS);
  sweeper.unref();
  app.addHook('onClose', async () => clearInterval(sweeper));

  app.decorate('ctx', ctx);
  app.decorate('gateway', gateway);
  return app;
}
