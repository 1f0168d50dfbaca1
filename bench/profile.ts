// Summarizes a V8 CPU profile (from BENCH_CPU_PROF=<dir> npm run bench): self time by function
// and by where the code lives, and inclusive time under the named functions.
// Usage: node --import tsx bench/profile.ts <file.cpuprofile> [top] [fnA,fnB,…]
import fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, inclusiveArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: bench/profile.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 40);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

/** Where a frame's code lives: our source, a package, Node itself, or V8 (GC, idle, native). */
function place(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const ours = /\/(dist|src)\/(.*)$/.exec(url);
  return ours ? `ours: ${ours[2]}` : url;
}

const fnTotals = new Map<string, number>();
const placeTotals = new Map<string, number>();
for (const [id, us] of self) {
  const { callFrame: f } = byId.get(id)!;
  const where = place(f.url, f.functionName);
  const fn = `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}`;
  fnTotals.set(fn, (fnTotals.get(fn) ?? 0) + us);
  placeTotals.set(where, (placeTotals.get(where) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${k}\n`);
};
process.stdout.write(`total ${(total / 1e6).toFixed(2)} s sampled\n`);
show('self time by place', placeTotals);
show('self time by function', fnTotals);

// Inclusive: a sample counts for each named function on its stack (once, however deep).
const named = new Set((inclusiveArg ?? '').split(',').filter(Boolean));
if (named.size > 0) {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      if (named.has(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }
  show('inclusive time under', inclusive);
}
