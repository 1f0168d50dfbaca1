// Seed-0 account routes on the same accounts as /api/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORD, PNG, createTestApp, uniq, type TestApp } from './helpers.js';
import { dataUrl } from './media-helpers.js';

describe('seed-0 /userauth routes', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('signs up with fname/lname and returns working tokens; the account is the same under /api/', async () => {
    const email = `${uniq()}@Example.com`;
    const res = await t.app.inject({ method: 'POST', url: '/userauth/userSignup', payload: { email, password: PASSWORD, fname: 'John', lname: 'Doe', profile: 'profile_image.jpg' } });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.ok(body.message && body.access && body.refresh);
    assert.equal(body.user.first_name, 'John');
    assert.equal(body.user.profile_picture, null, 'a bare file name is not an image');
    const viaApi = await t.app.inject({ method: 'GET', url: `/api/users/${body.user.id}/`, headers: { authorization: `Bearer ${body.access}` } });
    assert.equal(viaApi.statusCode, 200);
    assert.equal(viaApi.json().last_name, 'Doe');
    const apiLogin = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: email.toLowerCase(), password: PASSWORD } });
    assert.equal(apiLogin.statusCode, 200);
  });

  it('derives distinct usernames for emails with the same local part', async () => {
    const local = uniq('same');
    const a = (await t.app.inject({ method: 'POST', url: '/userauth/userSignup', payload: { email: `${local}@a.example`, password: PASSWORD } })).json();
    const b = (await t.app.inject({ method: 'POST', url: '/userauth/userSignup', payload: { email: `${local}@b.example`, password: PASSWORD } })).json();
    assert.equal(a.user.username, local);
    assert.notEqual(b.user.username, a.user.username);
  });

  it('accepts a data: URL profile and applies the same rules as /api/users/', async () => {
    const ok = await t.app.inject({ method: 'POST', url: '/userauth/userSignup', payload: { email: `${uniq()}@example.com`, password: PASSWORD, profile: dataUrl(PNG, 'image/png') } });
    assert.equal(ok.statusCode, 201);
    assert.match(ok.json().user.profile_picture, /\.png$/);
    const weak = await t.app.inject({ method: 'POST', url: '/userauth/userSignup', payload: { email: `${uniq()}@example.com`, password: '1234567' } });
    assert.equal(weak.statusCode, 400);
    assert.ok(weak.json().password);
    const dup = await t.app.inject({ method: 'POST', url: '/userauth/userSignup', payload: { email: ok.json().user.email.toUpperCase(), password: PASSWORD } });
    assert.equal(dup.statusCode, 400);
    assert.ok(dup.json().email);
    const bad = await t.app.inject({ method: 'POST', url: '/userauth/userSignup', payload: { email: 'nope', password: PASSWORD } });
    assert.equal(bad.statusCode, 400);
  });

  it('logs in with tokens, and refuses wrong credentials with 400', async () => {
    const email = `${uniq()}@example.com`;
    await t.app.inject({ method: 'POST', url: '/userauth/userSignup', payload: { email, password: PASSWORD } });
    const ok = await t.app.inject({ method: 'POST', url: '/userauth/userLogin', payload: { email, password: PASSWORD } });
    assert.equal(ok.statusCode, 200);
    const tokens = ok.json();
    assert.ok(tokens.access && tokens.refresh);
    const refreshed = await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: tokens.refresh } });
    assert.equal(refreshed.statusCode, 200);
    const bad = await t.app.inject({ method: 'POST', url: '/userauth/userLogin', payload: { email, password: 'not-the-password' } });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json().detail);
    const malformed = await t.app.inject({ method: 'POST', url: '/userauth/userLogin', payload: { email } });
    assert.equal(malformed.statusCode, 400);
  });
});
