// Malformed input on every route, never a 5xx: the routes are read from /openapi.json, so a
// new route is covered as soon as it is documented. Each test collects every offending request
// and fails once with the whole list.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { chatApp } from './chat-helpers.js';
import { PASSWORD, PNG, multipart, signup, uniq, type TestApp, type TestUser } from './helpers.js';
import { dataUrl } from './media-helpers.js';
import {
  BIG_STRING,
  Failures,
  WRONG_KINDS,
  allWrong,
  fillPath,
  operations,
  types,
  validBody,
  validValue,
  type Expectation,
  type Operation,
  type Schema,
  type ValueHints,
  type WrongKind,
} from './contract-helpers.js';

/** Path parameter values that are no valid id: not a number, zero, negative, over 2^31-1, and far beyond any integer type. */
const BAD_PATH_VALUES = ['abc', '0', '-1', '99999999999', '9'.repeat(400)];
/** Sent as they are (not URL-encoded): percent-encodings that decode to nothing valid. */
const RAW_BAD_PATH_VALUES = ['%zz', '%E0%A4%A'];

/** The operations that need no token (everything else must declare `security`). */
const PUBLIC_OPERATIONS = [
  'GET /healthz',
  'GET /readyz',
  'POST /api/auth/token/',
  'POST /api/auth/token/refresh/',
  'POST /api/users/',
  'GET /media/avatars/{name}',
  'POST /userauth/userSignup',
  'POST /userauth/userLogin',
  'GET /api/config/',
  'POST /api/auth/session/',
  'POST /api/auth/session/refresh/',
  'POST /api/auth/session/logout/',
];

/** Operations whose success is a file, not JSON (their odd queries may still succeed with the token). */
const FILE_OPERATIONS = ['GET /api/attachments/{id}/download/'];

/** The cookie-session routes refuse (403) anything without this header, before reading the body. */
const CSRF_HEADER = { 'x-requested-with': 'XMLHttpRequest' };
const needsCsrfHeader = (op: Operation) => op.path.startsWith('/api/auth/session/');

interface Case {
  op: Operation;
  /** What is malformed, for the failure list. */
  what: string;
  request: InjectOptions & { url: string; headers: Record<string, string> };
  /** With the user's token; without one, a secured operation answers 401 instead. */
  expected: Expectation;
  /**
   * The router may refuse the URL itself before any route (or its authentication) applies: an
   * over-long path segment (414) or a broken percent-encoding (400). Without a token such a
   * request answers that error or 401.
   */
  urlLevel?: boolean;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const deeplyNested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('malformed input on every route, never a 5xx', () => {
  let t: TestApp;
  let user: TestUser;
  let other: TestUser;
  let ops: Operation[];
  let hints: ValueHints;
  /** Real objects of the user's, so that bodies are checked against existing targets. */
  const real: Record<string, number | string> = {};

  before(async () => {
    t = await chatApp();
    user = await signup(t.app, { profile_picture: dataUrl(PNG, 'image/png') });
    other = await signup(t.app);
    const req = async (who: TestUser, method: InjectOptions['method'], url: string, payload?: unknown, status = 201) => {
      const res = await t.app.inject({ method, url, headers: who.auth, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }) });
      assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
      return res.json();
    };
    const room = await req(user, 'POST', '/api/chat_rooms/', { room_type: 'group', name: 'fixtures', members: [other.id] });
    const mine = await req(user, 'POST', '/api/messages/', { chat_room: room.id, content: 'mine' });
    const theirs = await req(other, 'POST', '/api/messages/', { chat_room: room.id, content: 'theirs' });
    const reaction = await req(user, 'POST', '/api/reactions/', { message: theirs.id, reaction_type: 'like' });
    const memberships: any[] = await req(user, 'GET', '/api/user_chats/', undefined, 200);
    const notifications = await req(user, 'GET', '/api/notifications/', undefined, 200);
    const publicKey = crypto.generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const key = await req(user, 'POST', '/api/e2ee_keys/', { public_key: publicKey });
    const upload = multipart({ message: String(mine.id), file_type: 'image', file: { filename: 'a.png', type: 'image/png', data: PNG } });
    const attachment = await t.app.inject({ method: 'POST', url: '/api/attachments/', payload: upload.payload, headers: { ...user.auth, ...upload.headers } });
    assert.equal(attachment.statusCode, 201, attachment.body);
    const profile = await req(user, 'GET', `/api/users/${user.id}/`, undefined, 200);
    Object.assign(real, {
      user: user.id,
      room: room.id,
      membership: memberships.find((m) => m.chat_room === room.id).id,
      message: mine.id,
      reaction: reaction.id,
      notification: notifications.results[0].id,
      key: key.id,
      attachment: attachment.json().id,
      avatar: String(profile.profile_picture).split('/').pop()!,
    });
    hints = {
      integers: { chat_room: room.id, chatid: room.id, message: mine.id, reply_to: mine.id, last_seen_message: mine.id, user: other.id, key_id: 1 },
      strings: {
        email: () => `${uniq('m')}@example.com`,
        username: () => uniq('m'),
        password: () => PASSWORD,
        old_password: () => PASSWORD,
        new_password: () => 'another-horse-battery-7',
        refresh: () => 'not-a-refresh-token',
        public_key: () => publicKey,
        file: () => dataUrl(PNG, 'image/png'),
        client_id: () => uniq('c'),
      },
    };
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    ops = operations(spec);
  });

  after(() => t.close());

  /** Values of an operation's path parameters that name real objects of the user (1 where none is known). */
  function realPathValues(op: Operation): Record<string, string> {
    const byPrefix: Array<[string, Record<string, number | string>]> = [
      ['/api/users/', { id: real.user }],
      ['/api/chat_rooms/', { id: real.room }],
      ['/api/user_chats/', { id: real.membership }],
      ['/api/messages/', { id: real.message }],
      ['/api/attachments/', { id: real.attachment }],
      ['/api/reactions/', { id: real.reaction }],
      ['/api/notifications/', { id: real.notification }],
      ['/api/e2ee_keys/bundle/', { user_id: other.id }],
      ['/api/e2ee_keys/', { id: real.key }],
      ['/media/avatars/', { name: real.avatar }],
    ];
    const known = byPrefix.find(([prefix]) => op.path.startsWith(prefix))?.[1] ?? {};
    return Object.fromEntries(op.pathParams.map((p) => [p, String(known[p] ?? 1)]));
  }

  const realUrl = (op: Operation) => fillPath(op.path, realPathValues(op));
  const jsonSchema = (op: Operation): Schema | undefined => op.body?.['application/json'];
  /** A request to `op` that is well-formed except for what the caller changes. */
  function wellFormed(op: Operation): Case['request'] {
    const schema = jsonSchema(op);
    const request: Case['request'] = { method: op.method, url: realUrl(op), headers: {} };
    if (schema) {
      request.payload = JSON.stringify(validBody(schema, hints));
      request.headers = { ...JSON_TYPE };
    }
    return request;
  }

  function pathCases(op: Operation): Case[] {
    const cases: Case[] = [];
    for (const param of op.pathParams) {
      const values = [...BAD_PATH_VALUES.map((v) => ({ value: v, raw: false })), ...RAW_BAD_PATH_VALUES.map((v) => ({ value: v, raw: true }))];
      for (const { value, raw } of values) {
        const marker = `__${param}__`;
        const path = fillPath(op.path, { ...realPathValues(op), [param]: marker }).replace(marker, raw ? value : encodeURIComponent(value));
        const urls = path.endsWith('/') ? [path, path.slice(0, -1)] : [path];
        for (const url of urls) {
          cases.push({
            op,
            what: `path ${param}=${value.length > 20 ? `${value.slice(0, 12)}…(${value.length} digits)` : value}${url === path ? '' : ' (no trailing slash)'}`,
            request: { ...wellFormed(op), url },
            expected: 'error',
            urlLevel: raw || value.length > 100,
          });
        }
      }
    }
    return cases;
  }

  function jsonBodyCases(op: Operation): Case[] {
    if (!op.body) return [];
    const url = realUrl(op);
    const raw = (what: string, payload: string, expected: Expectation, headers: Record<string, string> = JSON_TYPE): Case => ({
      op,
      what,
      request: { method: op.method, url, payload, headers },
      expected,
    });
    const schema = jsonSchema(op) ?? {};
    const props = Object.keys(schema.properties ?? {});
    const cases: Case[] = [
      raw('body {"bad json', '{"bad json', 400),
      raw('body {}', '{}', 'not-5xx'),
      raw('empty body with a JSON content-type', '', 'not-5xx'),
      raw('body []', '[]', 'error'),
      raw('body "x"', '"x"', 'error'),
      raw('body null', 'null', 'error'),
      raw('body 123', '123', 'error'),
      raw('body true', 'true', 'error'),
      raw('body with __proto__', '{"__proto__": {"is_admin": true}}', 'error'),
      raw('body with constructor.prototype', '{"constructor": {"prototype": {"is_admin": true}}}', 'error'),
      raw('text/plain body', 'hello', 'error', { 'content-type': 'text/plain' }),
      raw('application/json with a charset nobody knows', '{}', 'not-5xx', { 'content-type': 'application/json; charset=klingon' }),
    ];
    if (props.length) {
      for (const kind of Object.keys(WRONG_KINDS) as WrongKind[]) cases.push(raw(`every property ${kind}`, JSON.stringify(allWrong(schema, kind)), 'error'));
      const deep = `{${props.map((p) => `${JSON.stringify(p)}:${deeplyNested(10_000)}`).join(',')}}`;
      cases.push(raw('every property 10000 arrays deep', deep, 'error'));
    }
    // One property wrong, the others valid: whatever the handler makes of it, never a 5xx.
    for (const prop of props) {
      for (const kind of Object.keys(WRONG_KINDS) as WrongKind[]) {
        const body = { ...validBody(schema, hints), [prop]: WRONG_KINDS[kind](schema.properties![prop]) };
        cases.push(raw(`only ${prop} ${kind}`, JSON.stringify(body), 'not-5xx'));
      }
    }
    return cases;
  }

  function formCases(op: Operation): Case[] {
    const cases: Case[] = [];
    const url = realUrl(op);
    const form = op.body?.['application/x-www-form-urlencoded'];
    if (form) {
      const post = (what: string, payload: string, expected: Expectation): Case => ({
        op,
        what,
        request: { method: op.method, url, payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        expected,
      });
      const wrong = new URLSearchParams();
      for (const [name, prop] of Object.entries(form.properties ?? {})) {
        const t = types(prop);
        wrong.set(name, prop.enum ? 'no-such-choice' : t.includes('integer') ? 'abc' : t.includes('boolean') ? 'maybe' : BIG_STRING);
      }
      cases.push(post('form with every field of a wrong type or 100 kB', wrong.toString(), 'error'));
      cases.push(post('form of percent-encoding garbage', '%zz&&=&%%%=%&a=%E0%A4%A', 'not-5xx'));
    }
    const parts = op.body?.['multipart/form-data'];
    if (parts) {
      const send = (what: string, payload: Buffer | string, contentType: string, expected: Expectation = 'error'): Case => ({
        op,
        what,
        request: { method: op.method, url, payload, headers: { 'content-type': contentType } },
        expected,
      });
      const isFile = (name: string, prop: Schema) => 'contentMediaType' in prop || name === 'file' || name === 'profile_picture';
      const fields = Object.entries(parts.properties ?? {});
      cases.push(send('multipart without a boundary', 'hello', 'multipart/form-data'));
      cases.push(send('multipart that is no multipart', 'hello world', 'multipart/form-data; boundary=----nope'));
      // Parses as a form without fields: an empty PATCH may succeed.
      cases.push(send('multipart with an empty boundary', '--\r\n\r\n----\r\n', 'multipart/form-data; boundary=', 'not-5xx'));
      cases.push(send('multipart with a 300-character boundary', 'hello', `multipart/form-data; boundary=${'b'.repeat(300)}`));
      const truncated = multipart({ first: 'x' });
      cases.push(send('multipart cut off before its end', truncated.payload.subarray(0, truncated.payload.length - 12), truncated.headers['content-type']));
      const big = multipart(Object.fromEntries(fields.map(([name]) => [name, BIG_STRING])));
      cases.push(send('multipart with every field 100 kB of text', big.payload, big.headers['content-type']));
      const asFiles = multipart(Object.fromEntries(fields.map(([name]) => [name, { filename: `${name}.png`, type: 'image/png', data: PNG }])));
      cases.push(send('multipart with every field a file', asFiles.payload, asFiles.headers['content-type']));
      const garbageFile = multipart(
        Object.fromEntries(
          fields.map(([name, prop]) => [
            name,
            isFile(name, prop) ? { filename: 'x.png', type: 'image/png', data: Buffer.from('not an image at all') } : String(validValue(name, prop, hints) ?? 'x'),
          ]),
        ),
      );
      cases.push(send('multipart with valid fields and a file that is no image', garbageFile.payload, garbageFile.headers['content-type']));
      cases.push(send('multipart cut off in the middle of a file', garbageFile.payload.subarray(0, garbageFile.payload.length - 20), garbageFile.headers['content-type']));
    }
    return cases;
  }

  function queryCases(op: Operation): Case[] {
    if (op.method !== 'GET' || op.query.length === 0) return [];
    const base = new URLSearchParams();
    for (const q of op.query) if (q.required) base.set(q.name, String(validValue(q.name, q.schema, hints)));
    const cases: Case[] = [];
    for (const q of op.query) {
      for (const [what, value] of [['abc', 'abc'], ['a 10 kB string', 'y'.repeat(10_240)]] as const) {
        const params = new URLSearchParams(base);
        params.set(q.name, value);
        const expected = FILE_OPERATIONS.includes(op.label) ? 'error-or-file' : 'error-or-200';
        cases.push({ op, what: `query ${q.name}=${what}`, request: { method: 'GET', url: `${realUrl(op)}?${params}`, headers: {} }, expected });
      }
      const repeated = new URLSearchParams(base);
      repeated.set(q.name, '1');
      repeated.append(q.name, '2');
      const twice = FILE_OPERATIONS.includes(op.label) ? 'error-or-file' : 'not-5xx';
      cases.push({ op, what: `query ${q.name} given twice`, request: { method: 'GET', url: `${realUrl(op)}?${repeated}`, headers: {} }, expected: twice });
    }
    return cases;
  }

  async function run(cases: Case[], withToken: boolean, failures: Failures): Promise<void> {
    for (const c of cases) {
      const headers = { ...c.request.headers, ...(withToken ? user.auth : {}), ...(needsCsrfHeader(c.op) ? CSRF_HEADER : {}) };
      const res = await t.app.inject({ ...c.request, headers });
      const expected = !withToken && c.op.secured ? (c.urlLevel ? 'error' : 401) : c.expected;
      const url = c.request.url.length > 80 ? `${c.request.url.slice(0, 80)}…` : c.request.url;
      failures.check(`${c.op.label} ${c.what} [${c.request.method} ${url}]${withToken ? '' : ' without a token'}`, res, expected);
    }
  }

  const allCases = () => ops.flatMap((op) => [...pathCases(op), ...jsonBodyCases(op), ...formCases(op), ...queryCases(op)]);

  it('walks every documented operation, and only the public ones need no token', () => {
    assert.ok(ops.length >= 60, `only ${ops.length} operations documented`);
    for (const label of ['GET /api/users/{id}/', 'PUT /api/messages/{id}/', 'POST /api/attachments/', 'POST /message/', 'POST /api/e2ee_keys/bundle/{user_id}/claim/']) {
      assert.ok(ops.some((op) => op.label === label), `${label} is documented`);
    }
    assert.ok(!ops.some((op) => op.path.startsWith('/ws/') || op.path.startsWith('/docs')));
    const publicOps = ops.filter((op) => !op.secured).map((op) => op.label).sort();
    assert.deepEqual(publicOps, [...PUBLIC_OPERATIONS].sort(), 'every other operation declares bearer security');
    assert.ok(ops.filter((op) => op.pathParams.length).length >= 30);
    assert.ok(ops.filter((op) => op.body).length >= 25);
  });

  it('answers invalid path parameters with a 4xx JSON error', async () => {
    const failures = new Failures();
    await run(ops.flatMap(pathCases), true, failures);
    failures.assertNone('invalid path parameters');
  });

  it('answers malformed and wrongly typed JSON bodies with a 4xx JSON error', async () => {
    const failures = new Failures();
    await run(ops.flatMap(jsonBodyCases), true, failures);
    failures.assertNone('malformed JSON bodies');
  });

  it('answers malformed urlencoded and multipart bodies with a 4xx JSON error', async () => {
    const failures = new Failures();
    const cases = ops.flatMap(formCases);
    assert.ok(cases.length > 0, 'some routes take forms');
    await run(cases, true, failures);
    failures.assertNone('malformed form bodies');
  });

  it('answers odd query strings with 200 or a 4xx JSON error', async () => {
    const failures = new Failures();
    const cases = ops.flatMap(queryCases);
    assert.ok(cases.length > 0, 'some routes take query parameters');
    await run(cases, true, failures);
    failures.assertNone('odd query strings');
  });

  it('answers 401 to every secured route without a valid token, whatever the input', async () => {
    const failures = new Failures();
    // The same malformed requests without a token: authentication comes first (public routes answer as before).
    await run(allCases(), false, failures);
    // Well-formed requests with a missing, malformed or wrongly-schemed token.
    const access = user.access;
    for (const op of ops.filter((o) => o.secured)) {
      for (const [what, authorization] of [
        ['no token', undefined],
        ['Bearer not-a-jwt', 'Bearer not-a-jwt'],
        ['Bearer with a tampered signature', `Bearer ${access.slice(0, -4)}${access.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`],
        ['Token <access> (wrong scheme)', `Token ${access}`],
        ['a 10 kB Bearer token', `Bearer ${'a'.repeat(10_240)}`],
      ] as const) {
        const request = wellFormed(op);
        const res = await t.app.inject({ ...request, headers: { ...request.headers, ...(authorization ? { authorization } : {}) } });
        failures.check(`${op.label} well-formed, ${what} [${request.method} ${request.url}]`, res, 401);
      }
    }
    failures.assertNone('requests without a valid token');
  });
});
