// Prekey draining (issue 15): one-time prekeys handed out per target user are limited
// (RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET a minute); beyond it the bundle is served without one, so
// many accounts together cannot drain a victim, and nobody is kept from starting a session.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, ok, users } from './chat-helpers.js';

const signalKey = () => Buffer.concat([Buffer.from([5]), crypto.randomBytes(32)]).toString('base64');
const prekeys = (n: number) => Array.from({ length: n }, (_, i) => ({ key_id: i + 1, public_key: signalKey() }));
const publish = (t: TestApp, u: TestUser, n: number) =>
  ok(call(t, u, 'POST', '/api/e2ee_keys/prekeys/', { identity_key: signalKey(), signed_prekey: { key_id: 1, public_key: signalKey(), signature: crypto.randomBytes(64).toString('base64') }, one_time_prekeys: prekeys(n) }));
const claim = (t: TestApp, claimer: TestUser, target: TestUser) => call(t, claimer, 'POST', `/api/e2ee_keys/bundle/${target.id}/claim/`);
const left = async (t: TestApp, u: TestUser) => (await ok(call(t, u, 'GET', '/api/e2ee_keys/prekeys/count/'))).count as number;

describe('prekey claims per target', () => {
  it('many accounts together take at most the per-target number of one-time prekeys; the bundle is still served', async () => {
    const t = await chatApp({ RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET: '3', RATE_LIMIT_PREKEY_CLAIMS_PER_USER: '0' });
    try {
      const [victim, bystander, ...claimers] = await users(t, 8);
      await publish(t, victim, 20);
      await publish(t, bystander, 5);
      const bundles = [];
      for (const c of claimers) for (let i = 0; i < 2; i++) bundles.push(await ok(claim(t, c, victim)));
      assert.equal(bundles.filter((b) => b.one_time_prekey !== null).length, 3, 'three one-time prekeys in all');
      assert.ok(bundles.every((b) => b.identity_key && b.signed_prekey && b.user === victim.id), 'every claim gets the bundle (X3DH without a one-time prekey)');
      assert.equal(await left(t, victim), 17);
      assert.notEqual((await ok(claim(t, claimers[0], bystander))).one_time_prekey, null, 'another user has their own allowance');
      assert.equal(await left(t, bystander), 4);
    } finally {
      await t.close();
    }
  });

  it('holds under concurrent claims', async () => {
    const t = await chatApp({ RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET: '5', RATE_LIMIT_PREKEY_CLAIMS_PER_USER: '0' });
    try {
      const [victim, ...claimers] = await users(t, 5);
      await publish(t, victim, 50);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => claim(t, claimers[i % claimers.length], victim)));
      assert.ok(results.every((r) => r.statusCode === 200));
      assert.equal(results.filter((r) => r.json().one_time_prekey !== null).length, 5);
      assert.equal(await left(t, victim), 45);
    } finally {
      await t.close();
    }
  });

  it('keeps the per-claimer 429', async () => {
    const t = await chatApp({ RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET: '10', RATE_LIMIT_PREKEY_CLAIMS_PER_USER: '2' });
    try {
      const [victim, claimer] = await users(t, 2);
      await publish(t, victim, 10);
      await ok(claim(t, claimer, victim));
      await ok(claim(t, claimer, victim));
      const third = await claim(t, claimer, victim);
      assert.equal(third.statusCode, 429);
      assert.ok(Number(third.headers['retry-after']) > 0);
      assert.equal(await left(t, victim), 8);
    } finally {
      await t.close();
    }
  });

  it('names the knob on the claim route', async () => {
    const t = await chatApp();
    try {
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      assert.ok((spec.paths['/api/e2ee_keys/bundle/{user_id}/claim/'].post.description as string).includes('RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET'));
    } finally {
      await t.close();
    }
  });
});
