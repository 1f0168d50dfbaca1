// Issue 14's budget counted in instructions instead of CPU time: what a send with a mention, a
// thread reply, or both costs against a plain send, under valgrind's callgrind (instruction counts
// do not move with the machine's load, unlike the CPU time `sendFeatures` measures). Prints,
// asserts nothing. SQLite, in process (inject: the app's own work, without HTTP's).
//
//   node --import tsx bench/send-instructions.ts [sends=480] [rounds=2]
//
// BENCH_CALLGRIND_OUT=<dir> keeps each child's profile for callgrind_annotate (native frames are
// named, such as SQLite's; JavaScript compiled by V8 shows as addresses).
//
// For each kind and round, a child process (this file with `child KIND N`) makes a group of two,
// warms up with sends of every kind (so that the same code is compiled whichever kind follows),
// and then, with callgrind's instrumentation switched on only around them, makes N sends of its
// kind, 16 at a time (group commit shares a transaction among them). About 30 s a child. V8 runs
// with --predictable (no compiler or GC threads), so that its compiling lands in the same place
// in every child.
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const KINDS = ['plain', 'mention', 'thread', 'mentionAndThread'] as const;
type Kind = (typeof KINDS)[number];
const AT_ONCE = 16;
/** BENCH_CALLGRIND_OUT=<dir>: keep each child's profile there (callgrind_annotate reads it). */
const OUT = process.env.BENCH_CALLGRIND_OUT;
const TEXT = 'Hey, are we still on for lunch tomorrow at noon?';

if (process.argv[2] === 'child') await child(process.argv[3] as Kind, Number(process.argv[4]));
else await parent(Number(process.argv[2] ?? 480), Number(process.argv[3] ?? 2));

async function child(kind: Kind, n: number): Promise<void> {
  const { chatApp, group, send, users } = await import('../test/chat-helpers.js');
  const t = await chatApp();
  const [sender, member] = await users(t, 2);
  const room = await group(t, sender, [member], false);
  const root = await send(t, sender, room.id, 'the thread');
  const bodies: Record<Kind, Record<string, unknown>> = {
    plain: {},
    mention: { mentions: [member.id] },
    thread: { thread: root.id },
    mentionAndThread: { mentions: [member.id], thread: root.id },
  };
  const content = (k: Kind) => (k === 'mention' || k === 'mentionAndThread' ? `@${member.username} ${TEXT}` : TEXT);
  const batch = (k: Kind) => Promise.all(Array.from({ length: AT_ONCE }, () => send(t, sender, room.id, content(k), bodies[k])));
  for (let i = 0; i < 20; i++) for (const k of KINDS) await batch(k);
  const lines = createInterface({ input: process.stdin });
  const next = () => once(lines, 'line');
  console.log('ready');
  await next();
  for (let i = 0; i < n / AT_ONCE; i++) await batch(kind);
  console.log('done');
  await next();
  lines.close();
  await t.close();
}

async function parent(n: number, rounds: number): Promise<void> {
  const counts: Record<Kind, number[]> = { plain: [], mention: [], thread: [], mentionAndThread: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of KINDS) counts[kind].push((await measure(kind, n)) / n);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`instructions per send (callgrind, ${n} sends ${AT_ONCE} at a time, ${rounds} rounds)`);
  for (const kind of KINDS) {
    const each = counts[kind].map((c) => Math.round(c).toLocaleString('en-US')).join(' / ');
    console.log(`${kind.padEnd(17)} ${each}  ratio to plain ${(mean(counts[kind]) / mean(counts.plain)).toFixed(3)}`);
  }
}

/** Instructions counted by callgrind while a child made `n` sends of `kind`. */
async function measure(kind: Kind, n: number): Promise<number> {
  const proc = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${OUT ? `${OUT}/${kind}.%p` : '/dev/null'}`, process.execPath, '--predictable', '--import', 'tsx', new URL(import.meta.url).pathname, 'child', kind, String(n)],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TEST_DB: 'sqlite' } },
  );
  let log = '';
  proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const out = createInterface({ input: proc.stdout });
  const said = (word: string) => new Promise<void>((resolve) => out.on('line', (l) => l === word && resolve()));
  const ready = said('ready');
  const done = said('done');
  await ready;
  const control = (on: boolean) => execFileSync('callgrind_control', ['-i', on ? 'on' : 'off', String(proc.pid)], { stdio: 'ignore' });
  control(true);
  proc.stdin.write('go\n');
  await done;
  control(false);
  proc.stdin.write('stop\n');
  const [code] = await once(proc, 'exit');
  const collected = /Collected : (\d+)/.exec(log);
  if (code !== 0 || !collected) throw new Error(`${kind}: the child failed (${code}):\n${log.slice(-2000)}`);
  return Number(collected[1]);
}
