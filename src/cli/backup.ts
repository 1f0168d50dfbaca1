// `npm run backup -- [DIRECTORY]`: a consistent copy of an embedded (SQLite) deployment while it
// serves — SQLite's online backup of the database, then the uploaded files — into DIRECTORY
// (default DATA_DIR/backups/<UTC time>). Restore: stop the server, put the copy's chat.sqlite and
// uploads/ in DATA_DIR, start it. PostgreSQL deployments use pg_dump (README, "Backup and restore").
//
// Exit codes: 0 done, 1 failed, 2 bad arguments, 78 bad configuration.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { ConfigError, loadConfig } from '../config.js';

const USAGE = `Usage: npm run backup -- [DIRECTORY]

Copies the SQLite database (online: the server may keep serving) and the uploaded files into
DIRECTORY, by default DATA_DIR/backups/<time>. With DATABASE_URL set, use pg_dump instead.
`;

async function main(argv: string[]): Promise<number> {
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { help: { type: 'boolean', short: 'h' } } });
    if (parsed.values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    positionals = parsed.positionals;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (positionals.length > 1) {
    process.stderr.write(`Unexpected argument "${positionals[1]}".\n\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`Configuration error: ${e.message}\n`);
    return 78;
  }
  if (config.databaseUrl) {
    process.stderr.write('DATABASE_URL is set: back up PostgreSQL with pg_dump (see the README), and DATA_DIR/uploads with any file copy.\n');
    return 1;
  }
  if (!fs.existsSync(config.sqlitePath)) {
    process.stderr.write(`No database at ${config.sqlitePath}.\n`);
    return 1;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = path.resolve(positionals[0] ?? path.join(config.dataDir, 'backups', stamp));
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) {
    process.stderr.write(`${target} is not empty: choose a new directory.\n`);
    return 1;
  }
  fs.mkdirSync(target, { recursive: true });
  const source = new SQLite(config.sqlitePath, { readonly: true, fileMustExist: true });
  try {
    // Page by page, letting the server's writes go on between steps; a consistent snapshot at the end.
    await source.backup(path.join(target, 'chat.sqlite'));
  } finally {
    source.close();
  }
  // Uploads are written once under new random names and never changed: files of messages sent
  // after the snapshot may come along; none the snapshot refers to can be missing.
  const uploads = path.join(config.dataDir, 'uploads');
  if (fs.existsSync(uploads)) fs.cpSync(uploads, path.join(target, 'uploads'), { recursive: true, filter: (src) => !src.endsWith('.tmp') });
  process.stdout.write(`Backed up to ${target}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`Backup failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
