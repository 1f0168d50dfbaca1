import websocket from '@fastify/websocket';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isDatabaseUnavailable } from '../db/dialect.js';
import { tooManyRequests, unauthorized } from '../errors.js';
import { enforceLimit, type RateLimiter } from '../lib/rate-limit.js';
import { bearerToken } from '../http/auth-hook.js';
import { errors } from '../http/schemas.js';
import type { AuthService, Principal } from '../modules/auth/auth.service.js';
import type { Endpoint } from './client.js';
import type { Gateway } from './gateway.js';
import { TICKET_TTL_SEC, type TicketStore } from './tickets.js';

const SocketQuery = Type.Object({
  ticket: Type.Optional(Type.String({ maxLength: 128, description: 'From POST /api/auth/ws-ticket/ (single use, 30 s), for browsers' })),
  since: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Last event id seen (on any instance): missed events are replayed first, then live ones' })),
  device_id: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_-]{1,64}$',
      description: 'general_updates: the E2EE device this socket speaks for (one of yours, registered before connecting; otherwise the socket closes with 4410 before ready): its to-device envelopes arrive live, and removing the device closes the socket with 4410',
    }),
  ),
});

const MAX_FRAME_BYTES = 16 * 1024;
const TICKETS_PER_MINUTE = 60;
const SOCKETS_RETRY_AFTER_SEC = 30;

export const gatewayRoutes: FastifyPluginAsyncTypebox<{ auth: AuthService; gateway: Gateway; tickets: TicketStore; limiter: RateLimiter; maxSockets: number }> = async (
  app,
  { auth, gateway, tickets, limiter, maxSockets },
) => {
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });

  app.post('/api/auth/ws-ticket/', {
    schema: {
      tags: ['realtime'],
      summary: `A single-use ticket (valid ${TICKET_TTL_SEC} s) to open a WebSocket with ?ticket= where headers cannot be set`,
      response: { 200: Type.Object({ ticket: Type.String() }), ...errors(401, 429) },
    },
  }, async (request) => {
    await enforceLimit(limiter, `ws-ticket:${request.auth.userId}`, TICKETS_PER_MINUTE, 60);
    return { ticket: await tickets.issue(request.auth) };
  });

  /** Bearer header or ticket; anything else refuses the upgrade with 401. */
  const authenticate = async (request: FastifyRequest<{ Querystring: { ticket?: string } }>) => {
    const token = bearerToken(request.headers.authorization);
    let principal: Principal | null = null;
    if (token) principal = await auth.authenticate(token);
    else if (request.query.ticket) {
      const p = await tickets.redeem(request.query.ticket);
      principal = p && !auth.isRevoked(p.sessionId) ? p : null;
    }
    if (!principal) throw unauthorized();
    request.auth = principal;
    if (gateway.hub.socketsOf(principal.userId) >= maxSockets) throw tooManyRequests(SOCKETS_RETRY_AFTER_SEC);
  };

  const socketRoute = (url: string, endpoint: Endpoint, description: string) =>
    app.get(url, {
      websocket: true,
      // @fastify/websocket hides its routes from the OpenAPI document; these are part of the API.
      config: { auth: false, swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, hide: false }, url }) },
      preValidation: authenticate,
      schema: {
        tags: ['realtime'],
        summary: `WebSocket: ${endpoint}`,
        description,
        querystring: SocketQuery,
        security: [{ bearerAuth: [] }],
        response: { 101: Type.Null({ description: 'Switching Protocols: the socket is open (a GET without the upgrade answers 404)' }), ...errors(401, 429) },
      },
    }, (socket, request) => {
      const { since = null, device_id: deviceId = null } = request.query as { since?: number; device_id?: string };
      gateway.open(socket, endpoint, request.auth, since, deviceId).catch((err) => {
        // The database away (restarting): "try again later"; the client reconnects with ?since=.
        if (isDatabaseUnavailable(err)) {
          request.log.warn({ err: (err as Error).message }, 'opening a socket: database unavailable');
          return socket.close(1013, 'try again later');
        }
        request.log.error({ err }, 'opening a socket failed');
        socket.close(1011, 'internal error');
      });
    });

  socketRoute('/ws/general_updates/', 'general_updates', 'Every event of every room you are an active member of (new_message, message_updated, message_deleted, reaction, notification, member_joined, member_left, room_updated, room_deleted, typing, read). Each stored event carries the id of its row in the event log (typing has none), and the events of a room carry seq, its own gapless counter: they arrive in seq order. Send {"type":"ping"} → pong, {"type":"typing","chat_room"}, {"type":"read","chat_room","message"}. With ?device_id= (one of your E2EE devices) the socket also receives that device\'s to-device envelopes, {"type":"to_device","to_device":{"id","sender","sender_device","envelope","created_at"}}, as they are queued (no event id: they are not in the event log; fetch the queue with GET /api/e2ee_keys/to_device/ once ready). A device_id that is not one of your registered devices closes the socket with 4410 before ready; removing the device (DELETE /api/e2ee_keys/devices/{device_id}/) closes the sockets opened with it, on every instance, with 4410, and only those. Rooms also carry device_added and device_removed {"user","device_id"} (a member registered or removed an E2EE device). More than WS_MAX_SOCKETS_PER_USER sockets of one user on one instance (both paths together) → 429 before the upgrade. Typing frames of one user and room, from all their sockets together, are relayed up to 3 at once, then one a second (extra ones are dropped). Close codes: 4401 unauthorized or session revoked, 4410 the socket\'s device_id is not (or no longer) one of your E2EE devices (register a device before reconnecting with its id), 4008 too slow (reconnect with ?since=), 1008 frame flood, 1001 server going away. A replay that is too long or too old sends {"type":"resync_required"}. {"type":"ready"} follows the replay: from then on events are live.');
  socketRoute('/ws/user_status/', 'user_status', 'Marks you online while open (any number of sockets); sends presence events ({"type":"presence","user","status","last_seen"}) for users who share a room with you, starting with those online now, then {"type":"ready"}.');
};
