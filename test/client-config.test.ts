import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers.js';

describe('GET /api/config/', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ UPLOAD_MAX_BYTES: '123456', MESSAGE_MAX_BYTES: '4000', AVATAR_MAX_BYTES: '65536', BODY_LIMIT: '200000', ACCESS_TOKEN_TTL: '600' });
  });
  after(() => t.close());

  it('tells anyone the configured limits and allowed values, without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/config/' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      limits: { upload_max_bytes: 123456, message_max_bytes: 4000, avatar_max_bytes: 65536, body_limit_bytes: 200000 },
      reaction_types: ['like', 'love', 'laugh', 'wow', 'sad', 'angry'],
      file_types: ['image', 'document', 'audio', 'video', 'encrypted'],
      access_token_ttl: 600,
    });
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/config' })).statusCode, 200, 'without the trailing slash too');
  });

  it('is documented as public in the OpenAPI document', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const op = spec.paths['/api/config/'].get;
    assert.ok(op.responses['200']);
    assert.equal(op.security, undefined);
  });
});
