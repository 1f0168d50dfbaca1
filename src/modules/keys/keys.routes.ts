import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, errors } from '../../http/schemas.js';
import { Bundle, E2eeKey, KeyListQuery, MAX_PREKEYS_PER_UPLOAD, PrekeyCount, PrekeyStatus, PrekeyUpload, PublicKeyBody, UserIdParams } from './keys.schemas.js';
import { MAX_PUBLIC_KEYS_PER_USER, type KeysService } from './keys.service.js';

export const keysRoutes: FastifyPluginAsyncTypebox<{ keys: KeysService }> = async (app, { keys }) => {
  const tags = ['e2ee keys'];

  app.post('/api/e2ee_keys/', {
    schema: {
      tags,
      summary: 'Publish one of your public keys',
      description:
        'The server keeps public keys only and never sees a private key: private key material in `public_key` or `private_key` → 400. ' +
        '`private_key` is accepted solely as the seed\'s opaque reference label. Sending a key you already published returns it with 200. ' +
        `At most ${MAX_PUBLIC_KEYS_PER_USER} keys per user (400 beyond). A raw 32-byte private scalar cannot be told from a public key: clients must send public keys.`,
      body: PublicKeyBody,
      response: { 201: E2eeKey, 200: E2eeKey, ...errors(400, 401) },
    },
  }, async (request, reply) => {
    const { key, created } = await keys.publish(request.auth.userId, request.body);
    return reply.code(created ? 201 : 200).send(key);
  });

  app.get('/api/e2ee_keys/', {
    schema: {
      tags,
      summary: "A user's public keys, oldest first (yours without ?user=)",
      description: 'Any signed-in user may read anyone\'s public keys; an unknown or deleted user is 404. `private_key` (the label) is shown to its owner only.',
      querystring: KeyListQuery,
      response: { 200: Type.Array(E2eeKey), ...errors(400, 401, 404) },
    },
  }, async (request) => keys.list(request.auth.userId, request.query.user));

  app.get('/api/e2ee_keys/prekeys/', {
    schema: { tags, summary: 'Your published X3DH prekeys: identity key, signed prekey, unclaimed one-time prekey count', response: { 200: PrekeyStatus, ...errors(401) } },
  }, async (request) => keys.status(request.auth.userId));

  app.post('/api/e2ee_keys/prekeys/', {
    schema: {
      tags,
      summary: 'Publish your identity key, signed prekey and one-time prekeys (X3DH)',
      description:
        'The first upload needs `identity_key` and `signed_prekey`. Later ones may rotate the signed prekey and add one-time prekeys ' +
        `(at most ${MAX_PREKEYS_PER_UPLOAD} per request, PREKEY_MAX_UNCLAIMED unclaimed in all; a key_id you already have unclaimed → 400). ` +
        'A different `identity_key` needs a new `signed_prekey` with it and discards your unclaimed one-time prekeys. ' +
        'Signatures are stored as sent: the claiming client verifies them against the identity key. Answers your prekey status.',
      body: PrekeyUpload,
      response: { 200: PrekeyStatus, ...errors(400, 401) },
    },
  }, async (request) => keys.uploadPrekeys(request.auth.userId, request.body));

  app.get('/api/e2ee_keys/prekeys/count/', {
    schema: { tags, summary: 'How many of your one-time prekeys are left unclaimed (upload more when low)', response: { 200: PrekeyCount, ...errors(401) } },
  }, async (request) => ({ count: await keys.countPrekeys(request.auth.userId) }));

  app.post('/api/e2ee_keys/bundle/:user_id/claim/', {
    schema: {
      tags,
      summary: "Claim another user's prekey bundle to start an X3DH session",
      description:
        'Identity key, signed prekey and ONE one-time prekey, which is removed as it is handed out: no one-time prekey is ever given twice, ' +
        'even to concurrent claims (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: a single writer). When none are left, `one_time_prekey` is null ' +
        '(X3DH without it). 404 for an unknown user or one without prekeys; 400 for your own. RATE_LIMIT_PREKEY_CLAIMS_PER_USER (default 60) claims a minute per claimer (429 beyond). ' +
        'RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET (default 10; 0 = off) claims a minute per target user, by all claimers together, take a one-time prekey: ' +
        'beyond that, `one_time_prekey` is null (the bundle is still served, as when none are left), so many accounts together cannot drain a user\'s prekeys.',
      params: UserIdParams,
      response: { 200: Bundle, ...errors(400, 401, 404, 429) },
    },
  }, async (request) => keys.claimBundle(request.auth.userId, request.params.user_id));

  app.get('/api/e2ee_keys/:id/', {
    schema: { tags, summary: 'One public key', params: IdParams, response: { 200: E2eeKey, ...errors(401, 404) } },
  }, async (request) => keys.get(request.auth.userId, request.params.id));

  app.delete('/api/e2ee_keys/:id/', {
    schema: { tags, summary: 'Delete one of your public keys', description: '403 for a key of someone else.', params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
  }, async (request, reply) => {
    await keys.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
