import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, errors } from '../../http/schemas.js';
import { MAX_PREKEYS_PER_UPLOAD } from './keys.schemas.js';
import { ClaimBody, ClaimResult, Device, DeviceListQuery, DeviceParams, DevicePrekeyCount, DevicePrekeyUpload, MAX_CLAIMS_PER_REQUEST, RegisterDeviceBody } from './devices.schemas.js';
import type { DevicesService } from './devices.service.js';

export const devicesRoutes: FastifyPluginAsyncTypebox<{ devices: DevicesService; maxDevices: number }> = async (app, { devices, maxDevices }) => {
  const tags = ['e2ee devices'];

  app.post('/api/e2ee_keys/devices/', {
    schema: {
      tags,
      summary: 'Register one of your devices (a browser) in the key directory',
      description:
        'Public keys only, each base64 (standard or URL-safe; answered as standard base64): `identity_key` X25519 and `signing_key` Ed25519 (32 bytes each), ' +
        '`signed_prekey` (an X25519 key, signed by the signing key: 64 bytes, which clients verify), and up to ' +
        `${MAX_PREKEYS_PER_UPLOAD} \`one_time_prekeys\`. Private key material (PEM, JWK, DER) → 400, as on the other key routes. ` +
        'A new device → 201, and every room you are an active member of receives `device_added` `{"user","device_id"}` (senders share their room keys with it). ' +
        'The same device_id with the same identity and signing keys → 200 with the device as registered, changing nothing (a retry is safe; rotate the signed prekey and add ' +
        'one-time prekeys through .../prekeys/). The same device_id with another identity or signing key → 409: a device never changes its identity, register a new device_id. ' +
        `At most E2EE_MAX_DEVICES_PER_USER (${maxDevices}) devices per user: 400 beyond.`,
      body: RegisterDeviceBody,
      response: { 201: Device, 200: Device, ...errors(400, 401, 409) },
    },
  }, async (request, reply) => {
    const { device, created } = await devices.register(request.auth.userId, request.body);
    return reply.code(created ? 201 : 200).send(device);
  });

  app.get('/api/e2ee_keys/devices/', {
    schema: {
      tags,
      summary: "A user's devices with their public keys, oldest first (yours without ?user=)",
      description: "Any signed-in user may list anyone's devices (their keys are public). An unknown, deleted or deactivated account → 404.",
      querystring: DeviceListQuery,
      response: { 200: Type.Array(Device), ...errors(400, 401, 404) },
    },
  }, async (request) => devices.list(request.auth.userId, request.query.user));

  app.post('/api/e2ee_keys/devices/claim/', {
    schema: {
      tags,
      summary: 'Claim one prekey bundle per device (X3DH), to open pairwise channels',
      description:
        `1 to ${MAX_CLAIMS_PER_REQUEST} devices. One bundle per device that exists (unknown ones, and those of deleted or deactivated accounts, are simply absent), ` +
        'in the order asked, each with ONE one-time prekey, removed as it is handed out: never given twice, even to concurrent claims ' +
        '(PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer). `one_time_prekey` is null when the device has none left. Your own other devices may be claimed too. ' +
        'The seed claim route\'s limits apply, on the same counters: RATE_LIMIT_PREKEY_CLAIMS_PER_USER (default 60) a minute per claimer, each request ' +
        'counting as one claim however many devices it names (429 beyond, nothing claimed); RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET (default 10; 0 = off) one-time prekeys a minute per target user, ' +
        'by all claimers together: beyond it the bundle comes without one, so accounts working together cannot drain a user.',
      body: ClaimBody,
      response: { 200: ClaimResult, ...errors(400, 401, 429) },
    },
  }, async (request) => ({ bundles: await devices.claim(request.auth.userId, request.body.devices) }));

  app.post('/api/e2ee_keys/devices/:device_id/prekeys/', {
    schema: {
      tags,
      summary: "Rotate one of your device's signed prekey and/or add one-time prekeys",
      description:
        `At most ${MAX_PREKEYS_PER_UPLOAD} one-time prekeys a request and PREKEY_MAX_UNCLAIMED (default 1000) unclaimed per device (400 beyond); a key_id the device ` +
        'already has unclaimed → 400. Answers how many are unclaimed. A device that is not yours → 404.',
      params: DeviceParams,
      body: DevicePrekeyUpload,
      response: { 200: DevicePrekeyCount, ...errors(400, 401, 404) },
    },
  }, async (request) => ({ one_time_prekeys: await devices.uploadPrekeys(request.auth.userId, request.params.device_id, request.body) }));

  app.get('/api/e2ee_keys/devices/:device_id/prekeys/', {
    schema: {
      tags,
      summary: "How many of your device's one-time prekeys are unclaimed (refill when few are left)",
      params: DeviceParams,
      response: { 200: DevicePrekeyCount, ...errors(400, 401, 404) },
    },
  }, async (request) => ({ one_time_prekeys: await devices.countPrekeys(request.auth.userId, request.params.device_id) }));

  app.delete('/api/e2ee_keys/devices/:device_id/', {
    schema: {
      tags,
      summary: 'Remove one of your devices',
      description:
        'Its prekeys and the envelopes queued for it are deleted. Every room you are an active member of receives `device_removed` `{"user","device_id"}` ' +
        '(senders rotate their room keys), and the sockets opened with `?device_id=` of it close with 4410 on every instance (your other sockets stay open). ' +
        'A device that is not yours → 404. Deleting your account removes all your devices.',
      params: DeviceParams,
      response: { 204: Type.Null(), ...errors(400, 401, 404) },
    },
  }, async (request, reply) => {
    await devices.remove(request.auth.userId, request.params.device_id);
    return reply.code(204).send(null);
  });

  app.get('/api/chat_rooms/:id/devices/', {
    schema: {
      tags,
      summary: "The devices of a room's active members, to share a room key with",
      description: 'Active members only: a room you cannot see → 404, a public group you have not joined → 403. Grouped by user, oldest device first.',
      params: IdParams,
      response: { 200: Type.Array(Device), ...errors(401, 403, 404) },
    },
  }, async (request) => devices.listForRoom(request.auth.userId, request.params.id));
};
