import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errors } from '../../http/schemas.js';
import { MAX_ENVELOPE_BYTES, MAX_FETCH, MAX_MESSAGES_PER_SEND, ToDeviceAckBody, ToDeviceMessage, ToDeviceQuery, ToDeviceSendBody, ToDeviceSendResult } from './to-device.schemas.js';
import type { ToDeviceService } from './to-device.service.js';

export const toDeviceRoutes: FastifyPluginAsyncTypebox<{ toDevice: ToDeviceService; queueMax: number }> = async (app, { toDevice, queueMax }) => {
  const tags = ['e2ee devices'];

  app.post('/api/e2ee_keys/to_device/', {
    schema: {
      tags,
      summary: 'Send opaque envelopes (key material) to devices',
      description:
        `1 to ${MAX_MESSAGES_PER_SEND} envelopes, each at most ${MAX_ENVELOPE_BYTES} bytes (400 beyond; the whole body within BODY_LIMIT, else 413), ` +
        'from `sender_device`, one of your devices (else 400). Each is queued for its device when the recipient is you or shares an active room with you, ' +
        `the device exists, and fewer than TO_DEVICE_QUEUE_MAX (${queueMax}) envelopes wait for it, of which fewer than TO_DEVICE_QUEUE_MAX_PER_SENDER are yours ` +
        '(one room mate cannot fill a device\'s queue for everyone); otherwise it is skipped with its reason ' +
        '(`no_shared_room`, `unknown_device`, `queue_full`, `sender_queue_full`) and the rest are still queued. RATE_LIMIT_TO_DEVICE_PER_USER (default 120; 0 = off) ' +
        'requests a minute per user (429 beyond, nothing queued). Once committed, every socket of the device (opened with ' +
        '`?device_id=`, on any instance) receives `{"type":"to_device","to_device":{"id","sender","sender_device","envelope","created_at"}}`; ' +
        'the envelope also waits in the device\'s queue until acknowledged. The server never reads or logs an envelope.',
      body: ToDeviceSendBody,
      response: { 200: ToDeviceSendResult, ...errors(400, 401, 413, 429) },
    },
  }, async (request) => toDevice.send(request.auth.userId, request.body));

  app.get('/api/e2ee_keys/to_device/', {
    schema: {
      tags,
      summary: 'The envelopes waiting for one of your devices, oldest first',
      description:
        `At most ${MAX_FETCH} a call (\`limit\`), after \`after\` if given. They stay until acknowledged (POST .../to_device/ack/), however long the device is away. ` +
        'Fetch after the socket is ready (what arrived before it was opened is only here; an envelope may come both ways: its id tells). A device that is not yours → 404.',
      querystring: ToDeviceQuery,
      response: { 200: Type.Array(ToDeviceMessage), ...errors(400, 401, 404) },
    },
  }, async (request) => toDevice.list(request.auth.userId, request.query.device_id, request.query.after, request.query.limit));

  app.post('/api/e2ee_keys/to_device/ack/', {
    schema: {
      tags,
      summary: 'Acknowledge (delete) the envelopes of one of your devices up to an id',
      description:
        "Deletes the device's envelopes with id ≤ `up_to` → 204. A device's envelopes commit in id order, so acknowledging the last id of a fetched page " +
        'never deletes one the device has not been able to see. A device that is not yours → 404.',
      body: ToDeviceAckBody,
      response: { 204: Type.Null(), ...errors(400, 401, 404) },
    },
  }, async (request, reply) => {
    await toDevice.ack(request.auth.userId, request.body.device_id, request.body.up_to);
    return reply.code(204).send(null);
  });
};
