// Issue 11 asks whether SQLite's writes should move to a worker thread. The server's JavaScript
// runs each change as code between statements (a unit of work is a function), so a worker would
// take each statement as a message and give its rows back as another. This prints what a send's
// own statements (the room-and-membership read, the message insert; batches of 20 in a
// transaction, as group commit runs them) cost the main thread in-thread, and what the same
// statements cost it when a worker runs them: main-thread µs per send (event-loop active time),
// and the wall time. `node --import tsx bench/sqlite-worker.ts [sends]`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const READ =
  'select r.*, u.id as u_id, u.username as u_username, u.first_name as u_first_name, u.last_name as u_last_name, m.id as m_id, m.role as m_role, ' +
  'm.is_active as m_is_active, m.joined_at as m_joined_at, m.left_at as m_left_at, m.last_read_message_id as m_last_read_message_id, ' +
  'm.marked_unread as m_marked_unread, m.hidden_at_message_id as m_hidden_at_message_id, m.is_muted as m_is_muted ' +
  'from chat_rooms r left join memberships m on m.chat_room_id = r.id and m.user_id = ? left join users u on u.id = ? and u.is_active = 1 where r.id = ?';
const INSERT = 'insert into messages (chat_room_id, sender_id, client_id, content, public_key, reply_to_id, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?) returning *';
const CONTENT = 'Hey, are we still on for lunch tomorrow at noon?';

type Op = { op: 'read' | 'insert' | 'begin' | 'commit'; params: unknown[] };

/** Opens the database and returns a function that runs one Op (the same code in both threads). */
function open(SQLiteClass: typeof SQLite, file: string, sql: { READ: string; INSERT: string }) {
  const db = new SQLiteClass(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const statements = { read: db.prepare(sql.READ), insert: db.prepare(sql.INSERT), begin: db.prepare('begin'), commit: db.prepare('commit') };
  return (o: Op): unknown[] => {
    const s = statements[o.op];
    return s.reader ? s.all(...o.params) : (s.run(...o.params), []);
  };
}

// The worker runs open() too; an eval'd CommonJS worker, since a worker file would need tsx's loader.
const WORKER = `const { parentPort, workerData } = require('node:worker_threads');
const run = (${open.toString()})(require('better-sqlite3'), workerData.file, workerData.sql);
parentPort.on('message', (o) => parentPort.postMessage(run(o)));`;

{
  const sends = Number(process.argv[2] ?? 20_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-worker-'));
  const file = path.join(dir, 'w.sqlite');
  const setup = new SQLite(file);
  setup.pragma('journal_mode = WAL');
  setup.exec(`create table users (id integer primary key, username text, first_name text, last_name text, is_active integer);
    create table chat_rooms (id integer primary key, room_type text, name text, is_public integer, created_by integer, private_key text, created_at text, updated_at text, event_seq integer, is_encrypted integer);
    create table memberships (id integer primary key, chat_room_id integer, user_id integer, role text, is_active integer, joined_at text, left_at text, last_read_message_id integer, marked_unread integer, hidden_at_message_id integer, is_muted integer, unique (chat_room_id, user_id));
    create table messages (id integer primary key, chat_room_id integer, sender_id integer, client_id text, content text, public_key text, reply_to_id integer, created_at text, updated_at text);
    create index messages_room on messages (chat_room_id, id);
    insert into users values (1, 'ada', 'Ada', 'L', 1);
    insert into chat_rooms values (1, 'group', 'g', 0, 1, null, '', '', 0, 0);
    insert into memberships values (1, 1, 1, 'owner', 1, '', null, null, 0, null, 0);`);
  setup.close();
  const now = new Date().toISOString();
  const send = async (exec: (o: Op) => Promise<unknown[]> | unknown[]) => {
    await exec({ op: 'read', params: [1, 1, 1] });
    await exec({ op: 'insert', params: [1, 1, null, CONTENT, null, null, now, now] });
  };
  // In-thread, the statements run without the loop ever waiting: the main thread's time is the
  // wall time. Through the worker, the loop waits for each answer: its active time is what the
  // main thread spent (posting, receiving, resolving).
  const measure = async (label: string, exec: (o: Op) => Promise<unknown[]> | unknown[], waits: boolean) => {
    const elu = performance.eventLoopUtilization();
    const t0 = performance.now();
    for (let i = 0; i < sends; i += 20) {
      await exec({ op: 'begin', params: [] });
      for (let j = 0; j < 20; j++) await send(exec);
      await exec({ op: 'commit', params: [] });
    }
    const wall = performance.now() - t0;
    const mainMs = waits ? performance.eventLoopUtilization(elu).active : wall;
    console.log(`${label.padEnd(10)} main thread ${((mainMs * 1000) / sends).toFixed(1).padStart(6)} µs/send, wall ${((wall * 1000) / sends).toFixed(1).padStart(6)} µs/send`);
  };
  const inThread = open(SQLite, file, { READ, INSERT });
  const worker = new Worker(WORKER, { eval: true, workerData: { file, sql: { READ, INSERT } } });
  const pending: Array<(rows: unknown[]) => void> = [];
  worker.on('message', (rows: unknown[]) => pending.shift()!(rows));
  const viaWorker = (o: Op) =>
    new Promise<unknown[]>((resolve) => {
      pending.push(resolve);
      worker.postMessage(o);
    });
  for (let round = 0; round < 3; round++) {
    await measure('in-thread', inThread, false);
    await measure('worker', viaWorker, true);
  }
  await worker.terminate();
  fs.rmSync(dir, { recursive: true, force: true });
}
