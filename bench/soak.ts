// npm run soak: the chaos soak (issue 15) on a clock. SOAK_SECONDS (60) of steady sends through
// three instances on PostgreSQL (TEST_DATABASE_URL's cluster, a fresh database) and a private
// redis-server, with sockets reconnecting throughout; at 20% an instance is killed with SIGKILL,
// at 35% Redis is killed and at 45% started again, at 60% the database goes away for
// SOAK_DB_DOWN_SECONDS (5), at 75% a new instance starts, at 90% sends stop. Prints the report
// (bench/soak-lib.ts says what is counted) and exits with 1 unless the bar is met.
// Other knobs: SOAK_RATE (sends/s, 30), SOAK_SENDERS (6), SOAK_SOCKETS (6), SOAK_ROOMS (4), and
// SOAK_PG_RESTART_CMD: a command that really restarts the PostgreSQL cluster (e.g.
// `pg_ctlcluster 15 main restart`), used at 60% instead of cutting the soak database's connections
// — only where nothing else uses the cluster.
import { execSync } from 'node:child_process';
import os from 'node:os';

process.env.TEST_DB = 'postgres';
// The soak brings its own Redis; a TEST_REDIS_URL would only add a key prefix.
process.env.TEST_REDIS_URL = '';
const { formatReport, runSoak } = await import('./soak-lib.js');

const num = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

const seconds = num('SOAK_SECONDS', 60);
const dbDown = num('SOAK_DB_DOWN_SECONDS', 5);
const started = new Date();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
console.log(`Chaos soak, ${seconds} s (started ${started.toISOString()}; ${os.cpus().length} cores, Node ${process.version})`);

const report = await runSoak({
  plan: {
    at: (fraction, run) => sleep(Math.max(0, fraction * seconds - run.elapsed()) * 1000),
    holdDatabase: () => sleep(dbDown * 1000),
  },
  rate: num('SOAK_RATE', 30),
  senders: num('SOAK_SENDERS', 6),
  watchers: num('SOAK_SOCKETS', 6),
  rooms: num('SOAK_ROOMS', 4),
  log: (line) => console.log(`  ${line}`),
  restartPostgres: process.env.SOAK_PG_RESTART_CMD ? async () => void execSync(process.env.SOAK_PG_RESTART_CMD!, { stdio: 'inherit' }) : undefined,
});
console.log('');
console.log(formatReport(report));
console.log('');
console.log(JSON.stringify({ ...report, serverWarnings: report.serverWarnings.slice(0, 20) }));
process.exit(report.passed ? 0 : 1);
