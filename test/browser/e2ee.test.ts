// End-to-end encrypted conversations in two browser profiles (two users, each browser a device with
// its keys in IndexedDB): a group made encrypted in the New group dialog, messages both ways, an
// image and a file encrypted in the browser, a reload (the keys persist, old messages still open),
// safety numbers that match on both sides, a tampered message shown as "Unable to decrypt" alone,
// a second browser of a user, a late joiner, a removed member who gets no key to what follows,
// an encrypted direct message, and encryption turned on in an existing group. The server's database
// and upload folder hold none of what was said.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { DIALECT, PNG } from '../helpers.js';
import { browserSkipReason, conversationLink, createGroup, launch, logInElsewhere, messages, send, signUp, site, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();

/** Words said in the encrypted rooms (and their stems: SQLite's and PostgreSQL's full-text indexes keep stems). */
const SECRETS = ['zanzibar', 'marmalade', 'quokka', 'xylophone', 'periwinkle', 'Pinecone', 'manifesto'];
const SECRET_FILE = Buffer.from('quarterly figures: the quokka budget is 1,234,567\n'.repeat(40));

describe('web client: end-to-end encrypted conversations', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let ada: Person;
  let bob: Person;
  /** Added to the group by the late-joiner test, removed by the next one. */
  let removedLater: Person | undefined;

  /** Signs up and waits until the browser's device is registered (so others can send it keys). */
  const person = async () => {
    let registered!: Promise<unknown>;
    const p = await signUp(browser, s.base, {
      onPage: (page: Page) => {
        registered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/e2ee_keys/devices/' && r.request().method() === 'POST' && r.ok());
      },
    });
    await registered;
    return p;
  };
  const article = (page: Page, text: string) => messages(page).filter({ hasText: text });
  const logIn = (who: Person) => logInElsewhere(browser, s.base, who);

  before(async () => {
    s = await site();
    browser = await launch();
    ada = await person();
    bob = await person();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('a group made encrypted in the dialog: both read each other, files included, and a reload still opens the history', async () => {
    await createGroup(ada.page, 'zanzibar plans', [bob.username], { isPublic: false, encrypted: true });
    await ada.page.locator('.room-header').getByText('End-to-end encrypted').waitFor();
    await conversationLink(bob.page, 'zanzibar plans').click();
    await bob.page.locator('.room-header').getByText('End-to-end encrypted').waitFor();

    await send(ada.page, 'the marmalade is in the blue jar');
    await article(bob.page, 'the marmalade is in the blue jar').filter({ hasText: ada.username }).waitFor();
    await send(bob.page, 'a quokka ate the xylophone');
    await article(ada.page, 'a quokka ate the xylophone').filter({ hasText: bob.username }).waitFor();
    await article(ada.page, 'the marmalade is in the blue jar').waitFor();

    // An image, encrypted in Ada's browser, shows decrypted in Bob's (a blob: URL); a file opens on demand.
    await ada.page.getByLabel('Attach file').setInputFiles({ name: 'periwinkle.png', mimeType: 'image/png', buffer: PNG });
    const img = messages(bob.page).getByRole('img', { name: 'periwinkle.png' });
    await img.waitFor();
    assert.match((await img.getAttribute('src'))!, /^blob:/);
    await bob.page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('article img')].some((i) => i.complete && i.naturalWidth === 1));
    await ada.page.getByLabel('Attach file').setInputFiles({ name: 'manifesto.txt', mimeType: 'text/plain', buffer: SECRET_FILE });
    const fileButton = messages(bob.page).getByRole('button', { name: 'manifesto.txt' });
    await fileButton.waitFor();
    const [download] = await Promise.all([bob.page.waitForEvent('download'), fileButton.click()]);
    assert.equal(download.suggestedFilename(), 'manifesto.txt');
    assert.deepEqual(fs.readFileSync((await download.path())!), SECRET_FILE);

    // The list's preview is decrypted too.
    await conversationLink(bob.page, 'zanzibar plans').filter({ hasText: 'manifesto.txt' }).waitFor();

    // Keys live in IndexedDB: after a reload the history still decrypts, and new messages too.
    await bob.page.reload();
    await article(bob.page, 'the marmalade is in the blue jar').waitFor();
    await article(bob.page, 'a quokka ate the xylophone').waitFor();
    await messages(bob.page).getByRole('img', { name: 'periwinkle.png' }).waitFor();
    assert.equal(await messages(bob.page).filter({ hasText: 'Unable to decrypt' }).count(), 0);
    await send(ada.page, 'Pinecone delivered after your reload');
    await article(bob.page, 'Pinecone delivered after your reload').waitFor();

    ada.watched.assertClean();
    bob.watched.assertClean();
  });

  test('the server’s database and upload folder hold no plaintext of what was said', async () => {
    const needles = [...SECRETS.flatMap((w) => [w.toLowerCase(), w.toLowerCase().slice(0, 6)]), 'blue jar', 'quarterly figures'];
    const found = (text: string) => needles.filter((n) => text.toLowerCase().includes(n));
    // Every row of every table, as text (binary columns as Latin-1).
    const tables =
      DIALECT === 'postgres'
        ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(s.t.ctx.db)).rows
        : (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(s.t.ctx.db)).rows;
    assert.ok(tables.some((t) => t.name === 'messages'));
    const asText = (_k: string, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v);
    for (const { name } of tables) {
      const rows = (await sql`select * from ${sql.table(name)}`.execute(s.t.ctx.db)).rows;
      // The group's name is not encrypted (room names are metadata): only message words are looked for in it.
      const text = JSON.stringify(rows, asText).replace(/zanzibar plans/g, '');
      assert.deepEqual(found(text), [], `table ${name}`);
    }
    const contents = await s.t.ctx.db.selectFrom('messages').select('content').where('is_deleted', '=', 0).execute();
    assert.ok(contents.length >= 5 && contents.every((m) => m.content.startsWith('e2ee:1:')), 'every message is ciphertext');
    // SQLite: the database files themselves, byte for byte (free pages and the write-ahead log included).
    if (DIALECT === 'sqlite') {
      for (const f of fs.readdirSync(s.t.env.dataDir).filter((n) => n.startsWith('chat.sqlite'))) {
        const text = fs.readFileSync(path.join(s.t.env.dataDir, f)).toString('latin1').replace(/zanzibar plans/g, '');
        assert.deepEqual(found(text), [], f);
      }
    }
    const uploads = path.join(s.t.env.dataDir, 'uploads');
    const files = fs.readdirSync(uploads, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    assert.equal(files.length, 2, 'the image and the file');
    for (const f of files) {
      const bytes = fs.readFileSync(path.join(f.parentPath, f.name));
      assert.equal(bytes.indexOf(PNG.subarray(16)), -1, 'the image’s bytes');
      assert.equal(bytes.indexOf('quarterly'), -1, 'the file’s text');
      assert.deepEqual(found(bytes.toString('latin1')), [], f.name);
    }
  });

  test('safety numbers match on both sides; a tampered message alone shows "Unable to decrypt"', async () => {
    const numberOf = async (page: Page, other: string) => {
      await page.getByRole('button', { name: 'Members' }).click();
      await page.getByRole('dialog', { name: 'Members' }).getByRole('button', { name: `Verify ${other}` }).click();
      const dialog = page.getByRole('dialog', { name: `Verify ${other}` });
      const group = dialog.getByRole('group', { name: new RegExp(`^Safety number with .* of ${other}$`) });
      await group.waitFor();
      const digits = (await group.innerText()).replace(/\s+/g, ' ').trim();
      await dialog.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('dialog', { name: 'Members' }).getByRole('button', { name: 'Close' }).click();
      return digits;
    };
    const atAda = await numberOf(ada.page, bob.username);
    const atBob = await numberOf(bob.page, ada.username);
    assert.match(atAda, /^(\d{5} ){11}\d{5}$/);
    assert.equal(atAda, atBob);

    // Someone with the database changes one of Ada's messages: Bob sees that one as undecryptable, the rest as before.
    const target = await s.t.ctx.db.selectFrom('messages').select(['id', 'content']).where('is_deleted', '=', 0).orderBy('id').executeTakeFirstOrThrow();
    const body = target.content.slice('e2ee:1:'.length);
    const i = body.length - 10;
    await s.t.ctx.db.updateTable('messages').set({ content: `e2ee:1:${body.slice(0, i)}${body[i] === 'A' ? 'B' : 'A'}${body.slice(i + 1)}` }).where('id', '=', target.id).execute();
    await bob.page.reload();
    await article(bob.page, 'a quokka ate the xylophone').waitFor();
    await messages(bob.page).filter({ hasText: 'Unable to decrypt' }).waitFor();
    assert.equal(await messages(bob.page).filter({ hasText: 'Unable to decrypt' }).count(), 1);
    assert.equal(await article(bob.page, 'the marmalade is in the blue jar').count(), 0);
    bob.watched.assertClean();
  });

  test('a second browser of a user reads what is sent after it is set up; a member added later reads from joining on', async () => {
    await conversationLink(ada.page, 'zanzibar plans').click();
    await ada.page.getByRole('heading', { name: 'zanzibar plans', exact: true }).waitFor();
    const bob2 = await logIn(bob);
    await conversationLink(bob2.page, 'zanzibar plans').click();
    await bob2.page.getByRole('heading', { name: 'zanzibar plans', exact: true }).waitFor();
    await send(ada.page, 'hello to both of your browsers');
    await article(bob2.page, 'hello to both of your browsers').waitFor();
    await article(bob.page, 'hello to both of your browsers').waitFor();
    // What was said before this browser existed stays closed to it.
    assert.ok((await messages(bob2.page).filter({ hasText: 'Unable to decrypt' }).count()) >= 1);
    await send(bob2.page, 'typed on the second browser');
    await article(ada.page, 'typed on the second browser').waitFor();
    await article(bob.page, 'typed on the second browser').waitFor();

    const carol = await person();
    await ada.page.getByRole('button', { name: 'Members' }).click();
    const members = ada.page.getByRole('dialog', { name: 'Members' });
    await members.getByRole('combobox', { name: 'Add people' }).fill(carol.username);
    await members.getByRole('option', { name: carol.username }).click();
    await members.getByRole('listitem').filter({ hasText: carol.username }).waitFor();
    await members.getByRole('button', { name: 'Close' }).click();
    await send(ada.page, 'welcome aboard, carol');
    await conversationLink(carol.page, 'zanzibar plans').click();
    await article(carol.page, 'welcome aboard, carol').waitFor();
    await article(carol.page, 'welcome aboard, carol').filter({ hasText: ada.username }).waitFor();
    assert.equal(await article(carol.page, 'hello to both of your browsers').count(), 0);
    assert.ok((await messages(carol.page).filter({ hasText: 'Unable to decrypt' }).count()) >= 1);
    for (const p of [bob2, carol]) p.watched.assertClean();
    await bob2.context.close();
    removedLater = carol;
  });

  test('a removed member gets no key to what is said after: each sender starts a new session and shares it with the others only', async () => {
    const carol = removedLater!;
    const carolId = (await s.t.ctx.db.selectFrom('users').select('id').where('username', '=', carol.username).executeTakeFirstOrThrow()).id;
    const senders = await s.t.ctx.db.selectFrom('users').select(['id', 'username']).where('username', 'in', [ada.username, bob.username]).execute();
    const idOf = (username: string) => senders.find((u) => u.username === username)!.id;
    /** The group session a sender's newest message in the room used (the ciphertext's header, docs/e2ee.md). */
    const sessionOf = async (username: string) => {
      const { content } = await s.t.ctx.db.selectFrom('messages').innerJoin('chat_rooms', 'chat_rooms.id', 'messages.chat_room_id').select('messages.content')
        .where('chat_rooms.name', '=', 'zanzibar plans').where('messages.sender_id', '=', idOf(username)).orderBy('messages.id', 'desc').executeTakeFirstOrThrow();
      return Buffer.from(content.slice('e2ee:1:'.length), 'base64url').subarray(1, 17).toString('hex');
    };
    await send(bob.page, 'carol, bob here too');
    await article(carol.page, 'carol, bob here too').waitFor();
    const before = { ada: await sessionOf(ada.username), bob: await sessionOf(bob.username) };

    // Every key either browser sends from now on, to whom.
    const recipients: number[] = [];
    for (const p of [ada.page, bob.page]) {
      p.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/e2ee_keys/to_device/') recipients.push(...(r.postDataJSON() as { messages: { user: number | string }[] }).messages.map((m) => Number(m.user)));
      });
    }
    await ada.page.getByRole('button', { name: 'Members' }).click();
    const members = ada.page.getByRole('dialog', { name: 'Members' });
    await members.getByRole('button', { name: `Manage ${carol.username}` }).click();
    await members.getByRole('group', { name: `Manage ${carol.username}` }).getByRole('button', { name: 'Remove', exact: true }).click();
    await ada.page.getByRole('dialog', { name: `Remove ${carol.username}?` }).getByRole('button', { name: 'Remove', exact: true }).click();
    await members.getByRole('listitem').filter({ hasText: carol.username }).waitFor({ state: 'detached' });
    await members.getByRole('button', { name: 'Close' }).click();
    await conversationLink(carol.page, 'zanzibar plans').waitFor({ state: 'detached' });

    await send(ada.page, 'now that carol has gone');
    await send(bob.page, 'her keys stop here');
    await article(bob.page, 'now that carol has gone').waitFor();
    await article(ada.page, 'her keys stop here').waitFor();
    const afterRemoval = { ada: await sessionOf(ada.username), bob: await sessionOf(bob.username) };
    assert.notEqual(afterRemoval.ada, before.ada, 'Ada started a new session');
    assert.notEqual(afterRemoval.bob, before.bob, 'Bob started a new session');
    assert.ok(recipients.includes(idOf(ada.username)) && recipients.includes(idOf(bob.username)), 'the new keys went to the members');
    assert.ok(!recipients.includes(carolId), 'and none to Carol');
    for (const p of [ada, bob, carol]) p.watched.assertClean();
    await carol.context.close();
  });

  test('an encrypted direct message, and encryption turned on in an existing group (one way, confirmed)', async () => {
    await ada.page.getByRole('button', { name: 'New direct message' }).click();
    const dialog = ada.page.getByRole('dialog', { name: 'New direct message' });
    await dialog.getByRole('combobox', { name: 'Username' }).fill(bob.username);
    await dialog.getByRole('option', { name: bob.username }).click();
    await dialog.getByRole('checkbox', { name: 'End-to-end encrypted' }).check();
    await dialog.getByRole('button', { name: 'Start' }).click();
    await ada.page.getByRole('heading', { name: bob.username, exact: true }).waitFor();
    await ada.page.locator('.room-header').getByText('End-to-end encrypted').waitFor();
    await send(ada.page, 'just between us');
    await conversationLink(bob.page, ada.username).click();
    await article(bob.page, 'just between us').waitFor();
    await bob.page.getByRole('heading', { name: ada.username, exact: true }).waitFor();
    await bob.page.locator('.room-header').getByText('End-to-end encrypted').waitFor();

    await createGroup(ada.page, 'open plans', [bob.username], { isPublic: false });
    await send(ada.page, 'said before encryption');
    await conversationLink(bob.page, 'open plans').click();
    await article(bob.page, 'said before encryption').waitFor();
    await ada.page.getByRole('button', { name: 'Members' }).click();
    await ada.page.getByRole('button', { name: 'Turn on end-to-end encryption' }).click();
    const confirm = ada.page.getByRole('dialog', { name: 'Turn on end-to-end encryption?' });
    await confirm.getByRole('button', { name: 'Turn on encryption' }).click();
    await confirm.waitFor({ state: 'detached' });
    await ada.page.getByRole('dialog', { name: 'Members' }).getByRole('button', { name: 'Close' }).click();
    await ada.page.locator('.room-header').getByText('End-to-end encrypted').waitFor();
    await bob.page.locator('.room-header').getByText('End-to-end encrypted').waitFor();
    await send(ada.page, 'said after encryption');
    await article(bob.page, 'said after encryption').waitFor();
    // What was said before is marked as not encrypted; what follows is ciphertext on the server.
    await article(bob.page, 'said before encryption').getByText('Not encrypted').waitFor();
    const rows = await s.t.ctx.db.selectFrom('messages').select('content').orderBy('id', 'desc').limit(2).execute();
    assert.match(rows[0].content, /^e2ee:1:/);
    assert.equal(rows[1].content, 'said before encryption');
    ada.watched.assertClean();
    bob.watched.assertClean();
  });
});
