// The seed-1 Postman collection, request by request, then the seed-0 flow, with a plain HTTP
// client (fetch, FormData, Blob) against a real listening server: what a client of either
// seed system sends over the wire, and that both APIs share one set of accounts and rooms.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { chatApp } from './chat-helpers.js';
import { PASSWORD, PNG, uniq, type TestApp } from './helpers.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const USER_KEYS = ['bio', 'date_joined', 'email', 'first_name', 'id', 'is_staff', 'last_name', 'last_seen', 'profile_picture', 'status', 'username'];
const ROOM_KEYS = ['created_at', 'created_by', 'id', 'is_encrypted', 'is_public', 'member_count', 'name', 'room_type', 'updated_at'];

interface Reply {
  status: number;
  headers: Headers;
  body: any;
  raw: Buffer;
}

interface Account {
  id: number;
  username: string;
  email: string;
  access: string;
  refresh: string;
}

describe('seed 1 (Postman collection) and seed 0 over real HTTP, on one server', () => {
  let t: TestApp;
  let base: string;

  before(async () => {
    t = await chatApp();
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(() => t.close());

  /** One request: `json` is sent as JSON, `form` (FormData or URLSearchParams) as fetch encodes it. */
  async function http(method: string, path: string, opts: { token?: string; json?: unknown; form?: FormData | URLSearchParams } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | FormData | URLSearchParams | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.form) body = opts.form;
    const res = await fetch(path.startsWith('http') ? path : base + path, { method, headers, body });
    const raw = Buffer.from(await res.arrayBuffer());
    const isJson = /^application\/json\b/.test(res.headers.get('content-type') ?? '');
    return { status: res.status, headers: res.headers, body: isJson && raw.length ? JSON.parse(raw.toString('utf8')) : null, raw };
  }

  /** The JSON body after checking the status (and that errors are JSON with a detail or field keys). */
  async function expect(status: number, reply: Promise<Reply> | Reply, what: string): Promise<any> {
    const r = await reply;
    assert.equal(r.status, status, `${what}: expected ${status}, got ${r.status} ${r.raw.toString('utf8').slice(0, 500)}`);
    if (status >= 400) {
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${what}: errors are JSON`);
      assert.ok(typeof r.body.detail === 'string' || Object.keys(r.body).length > 0, `${what}: error body ${JSON.stringify(r.body)}`);
    }
    return r.body;
  }

  const state: {
    ada?: Account;
    bob?: Account;
    cyd?: Account;
    roomId?: number;
    bobMembershipId?: number;
    messageId?: number;
    reactionId?: number;
    seed0RoomId?: number;
  } = {};

  it('signs up with a multipart form and a real picture, gets, refreshes and rotates tokens', async () => {
    const username = uniq('ada');
    const email = `${username}@example.com`;
    const form = new FormData();
    form.set('username', username);
    form.set('first_name', 'Ada');
    form.set('last_name', 'Lovelace');
    form.set('email', email);
    form.set('password', PASSWORD);
    form.set('profile_picture', new Blob([PNG], { type: 'image/png' }), 'ada.png');
    const user = await expect(201, http('POST', '/api/users/', { form }), 'multipart signup');
    assert.deepEqual(Object.keys(user).sort(), USER_KEYS, 'the user, without any password field');
    assert.equal(user.username, username);
    assert.equal(user.email, email);
    assert.equal(user.first_name, 'Ada');
    assert.equal(user.last_name, 'Lovelace');
    assert.equal(user.bio, '');
    assert.equal(user.status, 'offline');
    assert.match(user.date_joined, ISO_UTC);
    assert.ok(Number.isInteger(user.id) && user.id > 0);
    assert.match(user.profile_picture, new RegExp(`^${base}/media/avatars/[A-Za-z0-9_-]{16,64}\\.png$`));
    const picture = await http('GET', user.profile_picture);
    assert.equal(picture.status, 200, 'the picture is served (publicly, by its unguessable name)');
    assert.equal(picture.headers.get('content-type'), 'image/png');
    assert.deepEqual(picture.raw, PNG, 'byte for byte');

    const tokens = await expect(200, http('POST', '/api/auth/token/', { json: { email, password: PASSWORD } }), 'token');
    assert.deepEqual(Object.keys(tokens).sort(), ['access', 'refresh']);
    assert.match(tokens.access, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');
    const wrong = await expect(400, http('POST', '/api/auth/token/', { json: { email, password: 'not-the-password-1' } }), 'wrong password');
    const unknown = await expect(400, http('POST', '/api/auth/token/', { json: { email: `nobody-${email}`, password: PASSWORD } }), 'unknown email');
    assert.deepEqual(wrong, unknown, 'the same answer for a wrong password and an unknown account');

    const rotated = await expect(200, http('POST', '/api/auth/token/refresh/', { json: { refresh: tokens.refresh } }), 'refresh');
    assert.deepEqual(Object.keys(rotated).sort(), ['access', 'refresh']);
    assert.notEqual(rotated.refresh, tokens.refresh, 'the refresh token rotates');
    const me = await expect(200, http('GET', `/api/users/${user.id}/`, { token: rotated.access }), 'the refreshed access token works');
    assert.equal(me.username, username);
    state.ada = { id: user.id, username, email, access: rotated.access, refresh: rotated.refresh };

    // Re-using a rotated refresh token revokes that whole session (another login here, so the flow keeps its own).
    const other = await expect(200, http('POST', '/api/auth/token/', { json: { email, password: PASSWORD } }), 'second session');
    const next = await expect(200, http('POST', '/api/auth/token/refresh/', { json: { refresh: other.refresh } }), 'second session refresh');
    await expect(401, http('POST', '/api/auth/token/refresh/', { json: { refresh: other.refresh } }), 're-used refresh token');
    await expect(401, http('GET', '/api/users/', { token: next.access }), 'the theft-detected session is revoked');
    await expect(401, http('POST', '/api/auth/token/refresh/', { json: { refresh: next.refresh } }), 'its latest refresh token too');
    await expect(200, http('GET', '/api/users/', { token: state.ada.access }), 'other sessions are untouched');

    // The second user signs up with a urlencoded form (the seed's other form encoding).
    const bobName = uniq('bob');
    const bobUser = await expect(
      201,
      http('POST', '/api/users/', { form: new URLSearchParams({ username: bobName, email: `${bobName}@example.com`, password: PASSWORD, first_name: 'Bob' }) }),
      'urlencoded signup',
    );
    assert.equal(bobUser.profile_picture, null);
    const bobTokens = await expect(200, http('POST', '/api/auth/token/', { json: { email: `${bobName}@example.com`, password: PASSWORD } }), 'bob token');
    state.bob = { id: bobUser.id, username: bobName, email: `${bobName}@example.com`, ...bobTokens };
  });

  it('creates a private room, makes it a group, and adds the second user', async () => {
    const { ada, bob } = state as Required<typeof state>;
    const room = await expect(201, http('POST', '/api/chat_rooms/', { token: ada.access, json: { room_type: 'private' } }), 'create private room');
    assert.deepEqual(Object.keys(room).sort(), ROOM_KEYS);
    assert.equal(room.room_type, 'private');
    assert.equal(room.name, '');
    assert.equal(room.is_public, false);
    assert.equal(room.created_by, ada.id);
    assert.equal(room.member_count, 1, 'only the creator so far');
    assert.match(room.created_at, ISO_UTC);

    const group = await expect(200, http('PUT', `/api/chat_rooms/${room.id}/`, { token: ada.access, json: { room_type: 'group' } }), 'PUT room_type group');
    assert.equal(group.id, room.id);
    assert.equal(group.room_type, 'group');
    assert.equal(group.is_public, false, 'a private room becomes a group that is not public (documented on PUT /api/chat_rooms/{id}/)');
    assert.equal(group.member_count, 1);

    // join/ is for public groups; this one is not, and bob is no member: it does not exist for him (404, as GET).
    await expect(404, http('POST', `/api/chat_rooms/${room.id}/join/`, { token: bob.access }), 'bob joins a group that is not public');
    await expect(404, http('GET', `/api/chat_rooms/${room.id}/`, { token: bob.access }), 'bob cannot see it');
    // Its owner, already a member, is told it is no public group.
    await expect(400, http('POST', `/api/chat_rooms/${room.id}/join/`, { token: ada.access }), 'the owner joins a group that is not public');

    // So the owner adds bob, as the seed's second step (a UserChat for the other user).
    const membership = await expect(201, http('POST', '/api/user_chats/', { token: ada.access, json: { user: bob.id, chat_room: room.id } }), 'add bob');
    assert.equal(membership.user, bob.id);
    assert.equal(membership.chat_room, room.id);
    assert.equal(membership.room_type, 'group');
    assert.equal(membership.is_active, true);
    assert.match(membership.joined_at, ISO_UTC);
    const seen = await expect(200, http('GET', `/api/chat_rooms/${room.id}`, { token: bob.access }), 'bob sees the room now (no trailing slash)');
    assert.equal(seen.member_count, 2);

    const patched = await expect(200, http('PATCH', `/api/user_chats/${membership.id}/`, { token: bob.access, json: { is_active: true, is_read: false } }), 'PATCH own membership');
    assert.equal(patched.id, membership.id);
    assert.equal(patched.is_active, true);
    assert.equal(patched.is_read, false);
    await expect(404, http('PATCH', `/api/user_chats/${membership.id}/`, { token: ada.access, json: { is_read: true } }), "someone else's membership");
    const bobs = await expect(200, http('GET', '/api/user_chats/', { token: bob.access }), 'bob lists his conversations');
    assert.ok(Array.isArray(bobs));
    assert.equal(bobs.find((m: any) => m.chat_room === room.id)?.name, ada.username, "named after the other members' usernames");
    state.roomId = room.id;
    state.bobMembershipId = membership.id;
  });

  it('sends and edits a message, attaches a file, reacts, publishes a key, and notifies', async () => {
    const { ada, bob, roomId } = state as Required<typeof state>;
    const senderKey = crypto.generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const msg = await expect(201, http('POST', '/api/messages/', { token: ada.access, json: { chat_room: roomId, content: 'aGVsbGxvdyA=', public_key: senderKey } }), 'send');
    assert.equal(msg.content, 'aGVsbGxvdyA=', 'opaque content, byte for byte');
    assert.equal(msg.public_key, senderKey);
    assert.equal(msg.chat_room, roomId);
    assert.equal(msg.sender, ada.id);
    assert.equal(msg.sender_full_name, 'Ada Lovelace');
    assert.equal(msg.is_edited, false);
    assert.equal(msg.is_deleted, false);
    assert.equal(msg.reply_to, null);
    assert.deepEqual(msg.reactions, []);
    assert.equal(msg.attachment, null);
    assert.match(msg.created_at, ISO_UTC);

    const edited = await expect(200, http('PUT', `/api/messages/${msg.id}`, { token: ada.access, json: { content: 'bmV3IGNpcGhlcnRleHQ=' } }), 'PUT without a trailing slash');
    assert.equal(edited.id, msg.id);
    assert.equal(edited.content, 'bmV3IGNpcGhlcnRleHQ=');
    assert.equal(edited.is_edited, true);
    assert.equal(edited.public_key, senderKey, 'untouched by an edit of the content');
    await expect(403, http('PUT', `/api/messages/${msg.id}`, { token: bob.access, json: { content: 'eA==' } }), "editing someone else's message");

    const upload = new FormData();
    upload.set('file', new Blob([PNG], { type: 'image/png' }), 'photo.png');
    upload.set('message', String(msg.id));
    upload.set('file_type', 'image');
    const attachment = await expect(201, http('POST', '/api/attachments/', { token: ada.access, form: upload }), 'multipart attachment');
    assert.equal(attachment.message, msg.id);
    assert.equal(attachment.file_type, 'image');
    assert.equal(attachment.mime_type, 'image/png');
    assert.equal(attachment.size, PNG.length);
    assert.equal(attachment.file_name, 'photo.png');
    assert.equal(attachment.download_url, `/api/attachments/${attachment.id}/download/`);
    assert.equal(attachment.file, `${base}/api/attachments/${attachment.id}/download/`);
    const download = await http('GET', attachment.file, { token: bob.access });
    assert.equal(download.status, 200, 'members download it');
    assert.equal(download.headers.get('content-type'), 'image/png');
    assert.deepEqual(download.raw, PNG);
    await expect(401, http('GET', attachment.file), 'not without a token');
    const withFile = await expect(200, http('GET', `/api/messages/${msg.id}/`, { token: bob.access }), 'the message shows its attachment');
    assert.equal(withFile.attachment.id, attachment.id);

    assert.deepEqual(await expect(200, http('GET', `/api/reactions/?message=${msg.id}`, { token: bob.access }), 'no reactions yet'), []);
    const reaction = await expect(201, http('POST', '/api/reactions/', { token: bob.access, json: { message: msg.id, reaction_type: 'like' } }), 'react');
    assert.equal(reaction.message, msg.id);
    assert.equal(reaction.user, bob.id);
    assert.equal(reaction.reaction_type, 'like');
    const reactions = await expect(200, http('GET', `/api/reactions/?message=${msg.id}`, { token: ada.access }), 'list reactions');
    assert.deepEqual(reactions.map((r: any) => [r.id, r.user, r.reaction_type]), [[reaction.id, bob.id, 'like']]);
    await expect(400, http('POST', '/api/reactions/', { token: bob.access, json: { message: msg.id, reaction_type: 'love' } }), 'one reaction per user per message');

    const { publicKey, privateKey } = crypto.generateKeyPairSync('x25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const key = await expect(201, http('POST', '/api/e2ee_keys/', { token: ada.access, json: { public_key: pem, private_key: 'key-ref-1' } }), 'publish a key');
    assert.equal(key.user, ada.id);
    assert.equal(key.public_key, pem.trim(), 'kept as sent, but for surrounding white space');
    assert.equal(key.key_format, 'pem');
    assert.equal(key.private_key, 'key-ref-1', 'the opaque label, shown to its owner');
    const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const derKey = await expect(201, http('POST', '/api/e2ee_keys/', { token: ada.access, json: { public_key: der } }), 'publish base64 DER SPKI');
    assert.equal(derKey.key_format, 'spki');
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const refused = await expect(400, http('POST', '/api/e2ee_keys/', { token: ada.access, json: { public_key: pem, private_key: privatePem } }), 'a real private key');
    assert.ok(refused.private_key, 'refused on the private_key field');
    assert.ok(!JSON.stringify(refused).includes('PRIVATE KEY-----\n'), 'and not echoed');
    const listed = await expect(200, http('GET', `/api/e2ee_keys/?user=${ada.id}`, { token: bob.access }), "ada's keys, as bob sees them");
    assert.deepEqual(listed.map((k: any) => k.id), [key.id, derKey.id]);
    assert.ok(listed.every((k: any) => k.private_key === null), 'labels are for their owner only');

    const adaNotes = await expect(200, http('GET', '/api/notifications/', { token: ada.access }), "ada's notifications");
    assert.deepEqual(Object.keys(adaNotes).sort(), ['count', 'next', 'previous', 'results']);
    const liked = adaNotes.results.find((n: any) => n.type === 'reaction');
    assert.ok(liked, `a reaction notification: ${JSON.stringify(adaNotes.results)}`);
    assert.equal(liked.reaction, reaction.id);
    assert.equal(liked.message, msg.id);
    assert.equal(liked.chat_room, roomId);
    assert.equal(liked.is_read, false);
    assert.ok(!adaNotes.results.some((n: any) => n.type === 'message'), 'no notification of your own message');
    const bobNotes = await expect(200, http('GET', '/api/notifications/', { token: bob.access }), "bob's notifications");
    const types = bobNotes.results.map((n: any) => n.type);
    assert.deepEqual(types, ['message', 'join'], 'newest first: the message, then being added');
    assert.equal(bobNotes.results[0].message, msg.id);
    assert.ok(!bobNotes.results[0].body.includes('aGVsbGxvdyA') && !bobNotes.results[0].body.includes('bmV3'), 'never the content');
    await expect(405, http('POST', '/api/notifications/', { token: bob.access, json: { type: 'message' } }), 'clients cannot create notifications');
    state.messageId = msg.id;
    state.reactionId = reaction.id;
  });

  it('runs the seed-0 flow on the same server, sharing accounts and rooms with seed 1', async () => {
    const { ada, bob, roomId } = state as Required<typeof state>;
    const email = `${uniq('cyd')}@example.com`;
    const signed = await expect(201, http('POST', '/userauth/userSignup', { json: { email, password: PASSWORD, fname: 'Cyd', lname: 'Charisse', profile: 'profile_image.jpg' } }), 'seed-0 signup');
    assert.equal(typeof signed.message, 'string');
    assert.match(signed.access, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(typeof signed.refresh, 'string');
    const login = await expect(200, http('POST', '/userauth/userLogin', { json: { email, password: PASSWORD } }), 'seed-0 login');
    assert.equal(typeof login.message, 'string');
    const bad = await http('POST', '/userauth/userLogin', { json: { email, password: 'wrong-password-42' } });
    assert.ok(bad.status === 400 || bad.status === 401, `wrong credentials: ${bad.status}`);
    const cyd: Account = { id: signed.user.id, username: signed.user.username, email, access: login.access, refresh: login.refresh };
    state.cyd = cyd;

    // One set of accounts: each API logs in the other's users, and lists them.
    await expect(200, http('POST', '/userauth/userLogin', { json: { email: ada.email, password: PASSWORD } }), 'a seed-1 account logs in through seed 0');
    await expect(200, http('POST', '/api/auth/token/', { json: { email, password: PASSWORD } }), 'a seed-0 account logs in through seed 1');
    const found = await expect(200, http('GET', `/api/users/?search=${encodeURIComponent(email)}`, { token: ada.access }), 'search');
    assert.deepEqual(found.results.map((u: any) => [u.id, u.first_name, u.last_name, u.profile_picture]), [[cyd.id, 'Cyd', 'Charisse', null]], 'a file name as profile is ignored');

    const chat = await expect(201, http('POST', '/chat/', { token: cyd.access, json: { chat_name: 'New Chat' } }), 'seed-0 chat');
    assert.equal(chat.name, 'New Chat');
    assert.equal(chat.room_type, 'group');
    assert.equal(chat.is_public, true);
    assert.equal(chat.created_by, cyd.id);
    state.seed0RoomId = chat.id;
    const first = await expect(201, http('POST', '/message/', { token: cyd.access, json: { chatid: chat.id, message: 'Hello, world!' } }), 'seed-0 send');
    assert.equal(first.content, 'Hello, world!');
    const second = await expect(201, http('POST', '/message/', { token: ada.access, json: { chatid: String(chat.id), message: 'hello from seed 1' } }), 'another user posts (joining)');
    assert.equal(second.sender, ada.id);
    const history = await expect(200, http('GET', `/message/?chat_id=${chat.id}`, { token: cyd.access }), 'seed-0 history');
    assert.deepEqual(history.map((m: any) => [m.id, m.sender, m.content]), [[first.id, cyd.id, 'Hello, world!'], [second.id, ada.id, 'hello from seed 1']], 'oldest first');
    const rest = await expect(200, http('GET', `/api/messages/?chat_room=${chat.id}`, { token: ada.access }), 'the same history through seed 1');
    assert.deepEqual(rest.results.map((m: any) => m.id), [second.id, first.id], 'newest first there');

    // One set of rooms: /chat/ and /api/chat_rooms/ list the same ones for each user.
    for (const [who, account] of [['ada', ada], ['bob', bob], ['cyd', cyd]] as const) {
      const seed0 = await expect(200, http('GET', '/chat/', { token: account.access }), `${who}: GET /chat/`);
      assert.ok(Array.isArray(seed0));
      const seed1 = await expect(200, http('GET', '/api/chat_rooms/', { token: account.access }), `${who}: GET /api/chat_rooms/`);
      assert.ok(seed1.count <= 20, 'one page');
      assert.deepEqual(seed0.map((r: any) => r.id), seed1.results.map((r: any) => r.id), `${who} sees the same rooms through both APIs`);
      assert.deepEqual(seed0, seed1.results, 'in the same shape');
      assert.ok(seed0.some((r: any) => r.id === chat.id), `${who} sees the public seed-0 group`);
      assert.equal(seed0.some((r: any) => r.id === roomId), who !== 'cyd', `${who} ${who === 'cyd' ? 'does not see' : 'sees'} the seed-1 group that is not public`);
    }
    const joined = await expect(200, http('GET', '/api/user_chats/', { token: ada.access }), "ada's conversations");
    const seed0Membership = joined.find((m: any) => m.chat_room === chat.id);
    assert.ok(seed0Membership, 'posting through seed 0 made ada a member');
    assert.equal(seed0Membership.last_message.id, second.id);
    const members = (await expect(200, http('GET', `/api/chat_rooms/${chat.id}/members/`, { token: cyd.access }), 'members')).results;
    assert.deepEqual(members.map((m: any) => m.user).sort(), [ada.id, cyd.id].sort());
    const cydNotes = await expect(200, http('GET', '/api/notifications/', { token: cyd.access }), "cyd's notifications");
    assert.deepEqual(cydNotes.results.map((n: any) => n.type), ['message', 'join'], "ada's message, after ada joined");

    // And the seed-1 room, seen through seed 0 by its members only.
    await expect(404, http('GET', `/message/?chat_id=${roomId}`, { token: cyd.access }), 'not a member of the seed-1 group');
    const seed1History = await expect(200, http('GET', `/message/?chat_id=${roomId}`, { token: bob.access }), 'the seed-1 room through seed 0');
    assert.deepEqual(seed1History.map((m: any) => m.id), [state.messageId]);
    assert.equal(seed1History[0].content, 'bmV3IGNpcGhlcnRleHQ=');
  });
});
