// PostgreSQL's CPU per send (prints, asserts nothing): `TEST_DB=postgres node --import tsx
// bench/send-pg-cpu.ts`. 2,000 sends, 20 at once into 20 rooms (group commit), through the app in
// process (inject; no HTTP): the CPU time of the database's backends serving it (from /proc, so
// run it on the database's machine), of this process, and the wall time, each per send. The
// backends' CPU moves little with the machine's load, unlike a rate.
import { performance } from 'node:perf_hooks';
import { chatApp, privateRoom, send, users } from '../test/chat-helpers.js';
import { cpuSeconds } from './lib.js';
const t = await chatApp();
const [sender, ...others] = await users(t, 21);
const rooms: number[] = [];
for (const other of others) rooms.push((await privateRoom(t, sender, other)).id);
for (let round = 0; round < 10; round++) await Promise.all(rooms.map((r, i) => send(t, sender, r, `warm ${round} ${i}`)));
const { sql } = await import('kysely');
const backendCpu = async () => {
  const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(t.ctx.db);
  let total = 0;
  for (const { pid } of rows) {
    try {
      total += cpuSeconds(pid);
    } catch {
      // The backend ended between the list and the read.
    }
  }
  return total;
};
const self0 = process.cpuUsage();
const c0 = await backendCpu();
const t0 = performance.now();
for (let round = 0; round < 100; round++) await Promise.all(rooms.map((r, i) => send(t, sender, r, `together ${round} ${i}`)));
const wall = performance.now() - t0;
const c1 = await backendCpu();
const self = process.cpuUsage(self0);
console.log(`2000 sends: wall ${(wall / 2000 * 1000).toFixed(0)} us/send, PG backends ${((c1 - c0) / 2000 * 1e6).toFixed(0)} us/send, node ${((self.user + self.system) / 2000).toFixed(0)} us/send`);
await t.close();
