import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { messagesRepository } from '../src/modules/messages/messages.repository.js';
import { newMarkers } from '../src/modules/search/search.highlight.js';
import { parseQuery } from '../src/modules/search/search.query.js';
import { searchRepository } from '../src/modules/search/search.repository.js';
import { DIALECT, uniq, type TestApp, type TestUser } from './helpers.js';
import { call, chatApp, group, ok, pathOf, privateRoom, send, users } from './chat-helpers.js';

const searchUrl = (params: Record<string, string | number>) => `/api/messages/search/?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;

describe('message search', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const search = (user: TestUser | null, params: Record<string, string | number>) => call(t, user, 'GET', searchUrl(params));
  const found = async (user: TestUser, params: Record<string, string | number>) => (await ok(search(user, params))).results.map((r: any) => r.message.content);

  /** A word that no other test's messages contain, so each test sees only its own. */
  const word = () => uniq('w').replace(/[^a-z0-9]/gi, '').toLowerCase();

  it('matches words by stem and prefix, and quoted phrases', async () => {
    const [a, b] = await users(t, 2);
    const room = await group(t, a, [b]);
    const tag = word();
    const texts = [
      `${tag} we deploy on Fridays`,
      `${tag} the deployment failed last night`,
      `${tag} deployed the hotfix`,
      `${tag} lunch at noon`,
      `${tag} release notes for the new version`,
      `${tag} notes about the release`,
    ];
    for (const text of texts) await send(t, a, room.id, text);
    const deployFamily = texts.slice(0, 3).sort();
    assert.deepEqual((await found(b, { q: `${tag} deploy` })).sort(), deployFamily, 'deploy finds deploy, deployment, deployed');
    assert.deepEqual((await found(b, { q: `${tag} depl` })).sort(), deployFamily, 'a prefix');
    assert.deepEqual((await found(b, { q: `${tag} DEPLOY` })).sort(), deployFamily, 'any case');
    const stem = await found(b, { q: `${tag} deployed` });
    assert.ok(stem.includes(texts[0]) && stem.includes(texts[2]), `deployed finds its stem: ${JSON.stringify(stem)}`);
    assert.deepEqual(await found(b, { q: `${tag} "release notes"` }), [texts[4]], 'a phrase, in order and adjacent');
    assert.deepEqual((await found(b, { q: `${tag} release notes` })).sort(), [texts[4], texts[5]].sort(), 'unquoted: both words anywhere');
    assert.deepEqual(await found(b, { q: `${tag} "release notes` }), [texts[4]], 'an unclosed quote runs to the end');
    assert.deepEqual(await found(b, { q: `${tag} lunch deploy` }), [], 'every word must match');
  });

  it('ranks better matches first, ties newest first, and counts every match', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const tag = word();
    const once = await send(t, a, room.id, `${tag} the build is green and ready for review by the team this afternoon`);
    const thrice = await send(t, a, room.id, `${tag} ${tag} ${tag}`);
    const tieOld = await send(t, a, room.id, `${tag} standup now`);
    const tieNew = await send(t, a, room.id, `${tag} standup now`);
    const page = await ok(search(b, { q: tag }));
    assert.equal(page.count, 4);
    assert.equal(page.results[0].message.id, thrice.id, 'the message that repeats the word comes first');
    const ids = page.results.map((r: any) => r.message.id);
    assert.ok(ids.indexOf(tieNew.id) < ids.indexOf(tieOld.id), 'equal scores: newest first');
    assert.ok(ids.indexOf(tieOld.id) < ids.indexOf(once.id), 'a long message with one match comes last');
  });

  it('returns each message exactly as GET /api/messages/{id}/ does', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const tag = word();
    const msg = await send(t, a, room.id, `${tag} with a reaction`);
    await ok(call(t, b, 'POST', '/api/reactions/', { message: msg.id, reaction_type: 'like' }), 201);
    const page = await ok(search(b, { q: tag }));
    assert.deepEqual(Object.keys(page).sort(), ['count', 'next', 'previous', 'results']);
    assert.deepEqual(Object.keys(page.results[0]).sort(), ['highlight', 'message']);
    assert.deepEqual(page.results[0].message, await ok(call(t, b, 'GET', `/api/messages/${msg.id}/`)));
  });

  it('filters by room and by sender', async () => {
    const [a, b] = await users(t, 2);
    const one = await group(t, a, [b]);
    const two = await privateRoom(t, a, b);
    const tag = word();
    await send(t, a, one.id, `${tag} from a in one`);
    await send(t, b, one.id, `${tag} from b in one`);
    await send(t, a, two.id, `${tag} from a in two`);
    assert.equal((await ok(search(a, { q: tag }))).count, 3);
    assert.deepEqual((await found(a, { q: tag, chat_room: one.id })).sort(), [`${tag} from a in one`, `${tag} from b in one`]);
    assert.deepEqual(await found(a, { q: tag, sender: b.id }), [`${tag} from b in one`]);
    assert.deepEqual(await found(a, { q: tag, chat_room: two.id, sender: a.id }), [`${tag} from a in two`]);
    assert.deepEqual(await found(a, { q: tag, sender: 2_000_000_000 }), [], 'an unknown sender only filters');
    assert.equal((await search(a, { q: tag, chat_room: 2_000_000_000 })).statusCode, 404);
  });

  it('pages 20 at a time with count, next and previous', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const tag = word();
    await messagesRepository.insertMany(t.ctx.db, Array.from({ length: 25 }, (_, i) => ({
      chat_room_id: room.id, sender_id: a.id, content: `${tag} number ${i}`, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
    })));
    const first = await ok(search(b, { q: tag }));
    assert.equal(first.count, 25);
    assert.equal(first.results.length, 20);
    assert.equal(first.previous, null);
    assert.ok(first.next);
    const second = await ok(call(t, b, 'GET', pathOf(first.next)));
    assert.equal(second.count, 25);
    assert.equal(second.results.length, 5);
    assert.equal(second.next, null);
    assert.equal(pathOf(second.previous), searchUrl({ q: tag }));
    const ids = [...first.results, ...second.results].map((r: any) => r.message.id);
    assert.equal(new Set(ids).size, 25, 'no message twice across pages');
    const beyond = await ok(search(b, { q: tag, page: 9 }));
    assert.deepEqual([beyond.count, beyond.results.length, beyond.next], [25, 0, null]);
  });

  it('highlights the matches and escapes everything else', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const tag = word();
    await send(t, a, room.id, `<script>alert(1)</script> ${tag} & "quotes" 'too'`);
    const [hit] = (await ok(search(b, { q: tag }))).results;
    assert.equal(hit.highlight, `&lt;script&gt;alert(1)&lt;/script&gt; <mark>${tag}</mark> &amp; &quot;quotes&quot; &#39;too&#39;`);
    // Matches by stem and prefix are marked whole; a phrase's words are marked.
    await send(t, a, room.id, `${tag}x Deployments and the release notes`);
    const [deployed] = (await ok(search(b, { q: `${tag}x deploy "release notes"` }))).results;
    assert.match(deployed.highlight, /<mark>Deployments<\/mark>/);
    assert.match(deployed.highlight, /<mark>release( notes)?<\/mark>/);
    assert.doesNotMatch(deployed.highlight.replace(/<\/?mark>/g, ''), /[<>]/);
    // A long message: a window around the first match, cut at word boundaries.
    const long = `${'lorem ipsum dolor '.repeat(30)}${tag}y needle ${'sit amet consectetur '.repeat(30)}`;
    await send(t, a, room.id, long);
    const [cut] = (await ok(search(b, { q: `${tag}y` }))).results;
    assert.match(cut.highlight, new RegExp(`^….* <mark>${tag}y</mark> needle .*…$`));
    assert.ok(cut.highlight.length < 240, cut.highlight);
  });

  it('finds an edit at once and forgets a deleted message at once', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const [before, afterEdit] = [word(), word()];
    const msg = await send(t, a, room.id, `${before} migrate the database`);
    assert.deepEqual((await found(b, { q: before })).length, 1);
    await ok(call(t, a, 'PATCH', `/api/messages/${msg.id}/`, { content: `${afterEdit} something else` }));
    assert.deepEqual(await found(b, { q: before }), [], 'the old text is gone');
    assert.deepEqual(await found(b, { q: afterEdit }), [`${afterEdit} something else`], 'the new text is found');
    assert.equal((await call(t, a, 'DELETE', `/api/messages/${msg.id}/`)).statusCode, 204);
    assert.deepEqual((await ok(search(b, { q: afterEdit }))).count, 0, 'a deleted message is never found');
    assert.equal((await call(t, a, 'GET', `/api/messages/${msg.id}/`)).statusCode, 200, '(it still exists, deleted)');
  });

  it('shows a non-member and a former member nothing of the room', async () => {
    const [owner, member, removed, outsider] = await users(t, 4);
    const room = await group(t, owner, [member, removed], false);
    const open = await group(t, owner, [member], true);
    const tag = word();
    await send(t, owner, room.id, `${tag} secret plans`);
    await send(t, member, room.id, `${tag} more secret plans`);
    await send(t, owner, open.id, `${tag} public plans`);
    assert.equal((await ok(search(member, { q: tag }))).count, 3);
    assert.equal((await ok(search(removed, { q: tag }))).count, 2);
    // Outsider: sees nothing, not even of a public group they have not joined.
    assert.deepEqual(await ok(search(outsider, { q: tag })), { count: 0, next: null, previous: null, results: [] });
    assert.equal((await search(outsider, { q: tag, chat_room: room.id })).statusCode, 404);
    assert.equal((await search(outsider, { q: tag, chat_room: open.id })).statusCode, 404, 'a public group is searched by its members only');
    // Leaving, and being removed: nothing of the room is found any more.
    await ok(call(t, member, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    assert.deepEqual(await found(member, { q: tag }), [`${tag} public plans`]);
    assert.equal((await search(member, { q: tag, chat_room: room.id })).statusCode, 404);
    assert.equal((await search(member, { q: `${tag} secret` })).json().count, 0);
    await ok(call(t, owner, 'DELETE', `/api/chat_rooms/${room.id}/members/${removed.id}/`), 204);
    assert.equal((await ok(search(removed, { q: tag }))).count, 0);
    assert.equal((await search(removed, { q: tag, chat_room: room.id })).statusCode, 404);
    assert.equal((await ok(search(owner, { q: tag }))).count, 3, 'the remaining member still finds everything');
  });

  it('ranks the newest matches, lists older ones after them newest first, and counts them all', async () => {
    // SEARCH_RANKED_MAX is 500; small ones here, straight at the repository, in pages of 2.
    const [owner, member, former, outsider] = await users(t, 4);
    const rooms = [await group(t, owner, [member, former], false), await group(t, owner, [member]), await privateRoom(t, owner, member)];
    const tag = word();
    const sent: number[] = [];
    for (const [i, room] of rooms.entries()) {
      for (let n = 0; n < 3; n++) sent.push((await send(t, n % 2 ? member : owner, room.id, `${tag} ${i} message ${n} with "release notes"${n === 1 ? ` ${tag} ${tag}` : ''}`)).id);
    }
    await ok(call(t, former, 'POST', `/api/chat_rooms/${rooms[0].id}/leave/`), 204);
    const find = (user: TestUser, q: string, rankedMax: number, extra: { chatRoom?: number; sender?: number }, offset = 0, limit = 20) =>
      searchRepository.find(t.ctx.db, { userId: user.id, parts: parseQuery(q), limit, offset, rankedMax, ...extra }, newMarkers());
    const newestFirst = (ids: number[]) => [...ids].sort((a, b) => b - a);
    for (const user of [owner, member, former, outsider]) {
      for (const q of [tag, `${tag} message`, `${tag} "release notes"`, `${tag.slice(0, 5)}`]) {
        for (const extra of [{}, { chatRoom: rooms[1].id }, { sender: member.id }]) {
          const all = await find(user, q, 1_000_000_000, extra);
          const what = `${q} ${JSON.stringify(extra)}`;
          for (const rankedMax of [0, 3, 4]) {
            const ids: number[] = [];
            for (let offset = 0; offset <= all.total + 2; offset += 2) {
              const page = await find(user, q, rankedMax, extra, offset, 2);
              assert.equal(page.total, all.total, `${what}: the count is exact (rankedMax ${rankedMax}, offset ${offset})`);
              ids.push(...page.ids);
            }
            assert.deepEqual(newestFirst(ids), newestFirst(all.ids), `${what}: every match once (rankedMax ${rankedMax})`);
            assert.deepEqual(newestFirst(ids.slice(0, rankedMax)), newestFirst(all.ids).slice(0, rankedMax), `${what}: the newest are ranked`);
            assert.deepEqual(ids.slice(rankedMax), newestFirst(ids.slice(rankedMax)), `${what}: the older ones newest first`);
          }
        }
      }
    }
    // The messages that repeat the word rank first among the ranked ones: all three, or the newest.
    assert.deepEqual((await find(owner, tag, 1_000_000_000, {})).ids.slice(0, 3), [sent[7], sent[4], sent[1]]);
    assert.deepEqual((await find(owner, tag, 3, {})).ids, [sent[7], sent[8], sent[6], sent[5], sent[4], sent[3], sent[2], sent[1], sent[0]]);
    assert.equal((await find(member, tag, 0, {})).total, 9);
    assert.equal((await find(former, tag, 0, {})).total, 0, 'a former member finds nothing of the room left');
    assert.equal((await find(outsider, tag, 0, {})).total, 0);
  });

  it('keeps working when a room and its messages are deleted', async () => {
    const [a, b] = await users(t, 2);
    const doomed = await group(t, a, [b]);
    const kept = await group(t, a, [b]);
    const tag = word();
    await send(t, a, doomed.id, `${tag} going away`);
    await send(t, a, kept.id, `${tag} staying`);
    assert.equal((await call(t, a, 'DELETE', `/api/chat_rooms/${doomed.id}/`)).statusCode, 204);
    assert.deepEqual(await found(b, { q: tag }), [`${tag} staying`]);
  });

  it('answers 401 without a token, and 400 naming q for missing, empty, too long or wordless text', async () => {
    assert.equal((await search(null, { q: 'anything' })).statusCode, 401);
    const [a] = await users(t, 1);
    const refuse = async (params: Record<string, string | number>) => {
      const res = await search(a, params);
      assert.equal(res.statusCode, 400, `${JSON.stringify(params)}: ${res.body}`);
      assert.ok(Array.isArray(res.json().q) && typeof res.json().q[0] === 'string', res.body);
    };
    await refuse({});
    await refuse({ q: '' });
    await refuse({ q: 'x'.repeat(501) });
    await refuse({ q: '*** --- ()' });
    await refuse({ q: 'the and of' });
    await refuse({ q: Array.from({ length: 17 }, (_, i) => `word${i}`).join(' ') });
    assert.equal((await search(a, { q: 'fine', page: 0 })).statusCode, 400);
    assert.equal((await search(a, { q: 'fine', chat_room: 'x' })).statusCode, 400);
  });

  it('PostgreSQL: a send goes straight into the search index, leaving nothing for every search to scan', { skip: DIALECT !== 'postgres' && 'PostgreSQL only: GIN pending lists' }, async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const tag = word();
    for (let i = 0; i < 5; i++) await send(t, a, room.id, `${tag} pending check ${i}`);
    assert.equal((await ok(search(b, { q: tag }))).count, 5);
    // gin_clean_pending_list() merges what the index's pending list holds and says how many pages that was.
    const { rows } = await sql<{ pages: number }>`select gin_clean_pending_list('message_search_room_lexemes_idx'::regclass) as pages`.execute(t.ctx.db);
    assert.equal(Number(rows[0].pages), 0, 'no pending list: every search would scan it against each of its terms');
  });

  it('does not take /api/messages/{id}/ or give it away', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'routing check');
    assert.equal((await ok(call(t, b, 'GET', `/api/messages/${msg.id}/`))).id, msg.id);
    assert.equal((await ok(call(t, b, 'GET', '/api/messages/search/?q=routing'))).results[0].message.id, msg.id);
    assert.equal((await ok(call(t, b, 'GET', '/api/messages/search?q=routing'))).count, 1, 'without the trailing slash too');
  });

  it('answers any hostile text with 200 or 400, never an error', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    await send(t, a, room.id, 'a NEAR b OR c: "d" e* -f ^g (h) {i} [j] emoji 👩‍👩‍👧 日本語のテキスト');
    const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('');
    const hostile = [
      '"', '""', '"""', '" "', 'a"b"c"', "'", "''", "it's", '*', 'deploy*', '**', '-', '-deploy', 'NOT deploy', 'a OR b', 'OR', 'AND', 'NOT',
      'a AND b OR c', 'NEAR', 'NEAR(a b)', 'NEAR/3', '(', ')', '(a', 'a)', '((((a))))', ':', 'a:b', 'content:a', 'chat_room_id:1', '^', '^a', '+a',
      '&', '|', '!', '<->', 'a <-> b', 'a & b', 'a | !b', 'a:*', "'a':*", '\\', '\\"', '{a}', '[a]', '%', '_', 'a%b_c', ';', "'; drop table messages; --",
      controls, `a${controls}b`, '\u0000', 'a\u0000b', '\u0301', 'e\u0301', '\u200b', '\ufeff', '\ud83d', '👩‍👩‍👧', '日本', '日本語', 'ﬀ', 'İ',
      '\u{1E900}\u{1E901}', 'ǅ', 'x'.repeat(500), 'x '.repeat(250), '"'.repeat(500), '('.repeat(500), 'a'.repeat(300), `${'é'.repeat(200)}`,
      '1', '12', '123', '3.14', 'e-mail', 'a-b-c-d-e', 'emoji', 'NEAR b OR c', 'd', 'e*', 'g', 'h', '{i}', 'j',
    ];
    for (const q of hostile) {
      const res = await search(b, { q });
      assert.ok(res.statusCode === 200 || res.statusCode === 400, `${JSON.stringify(q)} → ${res.statusCode} ${res.body}`);
      if (res.statusCode === 400) assert.ok(res.json().q || res.json().detail, `${JSON.stringify(q)}: ${res.body}`);
    }
    for (const q of ['x'.repeat(1000), 'a '.repeat(600)]) {
      const res = await search(b, { q });
      assert.equal(res.statusCode, 400, JSON.stringify(q).slice(0, 40));
      assert.deepEqual(res.json(), { q: ['Ensure this field has no more than 500 characters.'] });
    }
    // The tokens of that message are still found for what they are.
    assert.equal((await ok(search(b, { q: 'NEAR emoji' }))).count, 1);
    assert.equal((await ok(search(b, { q: '日本語' }))).count, 1);
    assert.equal((await ok(search(b, { q: '"d" e* -f ^g (h)' }))).count, 1);
  });
});
