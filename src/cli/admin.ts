// `npm run admin -- <command>`: server administration from a shell, on the server's own
// configuration (the same environment variables: DATABASE_URL, DATA_DIR…). Migrations run first.
//
//   createsuperuser --username U --email E   a staff account (password from ADMIN_PASSWORD, or
//                                            asked twice on the terminal), or an existing
//                                            account with that username or email made staff
//
// Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 bad arguments, 78 bad configuration.
import { parseArgs } from 'node:util';
import type { Database } from '../db/connect.js';
import type { SuperuserRequest } from '../modules/admin/superuser.js';

const USAGE = `Usage: npm run admin -- createsuperuser --username USERNAME --email EMAIL

Commands:
  createsuperuser   Create a staff account, or make the existing account with that
                    username or email staff (its password is left as it is).

Options:
  --username U      The account's username (letters, digits and @ . + - _).
  --email E         The account's email address.
  -h, --help        Show this help.

A new account's password comes from the ADMIN_PASSWORD environment variable, or is asked
for twice on the terminal (not shown). It must pass the sign-up rules: at least 8
characters, not entirely numeric, not a common password, not like the username or email.
The database is the server's: DATABASE_URL (PostgreSQL) or DATA_DIR (SQLite), as for npm start.

Exit codes: 0 done, 1 refused or failed, 2 bad arguments, 78 bad configuration.
`;

class UsageError extends Error {}

/** Thrown to leave with `code` after the message was already written. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const err = (text: string) => process.stderr.write(`${text}\n`);

function parse(argv: string[]): { help: true } | { help: false; command: string; request: SuperuserRequest } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { username: { type: 'string' }, email: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { help: true };
  if (positionals.length === 0) throw new UsageError('No command given.');
  const [command, ...extra] = positionals;
  if (command !== 'createsuperuser') throw new UsageError(`Unknown command "${command}".`);
  if (extra.length) throw new UsageError(`Unexpected argument "${extra[0]}".`);
  const missing = (['username', 'email'] as const).filter((k) => !values[k]?.trim());
  if (missing.length) throw new UsageError(`createsuperuser needs ${missing.map((k) => `--${k}`).join(' and ')}.`);
  return { help: false, command, request: { username: values.username!.trim(), email: values.email!.trim() } };
}

/**
 * Lines typed on the terminal, not echoed: raw mode from the start to close(), so nothing typed
 * early or between two prompts is shown either. Ctrl-C leaves with 130.
 */
class HiddenInput {
  private buffer = '';
  private readonly lines: string[] = [];
  private waiter: { resolve: (line: string) => void; reject: (e: Error) => void } | null = null;
  private interrupted = false;
  private last = '';
  private readonly onData = (chunk: Buffer) => {
    for (const ch of chunk.toString('utf8')) {
      const previous = this.last;
      this.last = ch;
      if (ch === '\n' && previous === '\r') continue;
      if (ch === '\r' || ch === '\n' || ch === '\u0004') {
        this.lines.push(this.buffer);
        this.buffer = '';
      } else if (ch === '\u0003') {
        this.interrupted = true;
        this.waiter?.reject(new Exit(130));
        this.waiter = null;
        return;
      } else if (ch === '\u007f' || ch === '\b') this.buffer = [...this.buffer].slice(0, -1).join('');
      else if (ch >= ' ') this.buffer += ch;
    }
    if (this.waiter && this.lines.length) {
      this.waiter.resolve(this.lines.shift()!);
      this.waiter = null;
    }
  };

  constructor(private readonly input: NodeJS.ReadStream) {
    input.setRawMode(true);
    input.on('data', this.onData);
    input.resume();
  }

  line(prompt: string): Promise<string> {
    process.stderr.write(prompt);
    return new Promise<string>((resolve, reject) => {
      if (this.interrupted) return reject(new Exit(130));
      if (this.lines.length) return resolve(this.lines.shift()!);
      this.waiter = { resolve, reject };
    }).finally(() => process.stderr.write('\n'));
  }

  close(): void {
    this.input.off('data', this.onData);
    this.input.setRawMode(false);
    this.input.pause();
  }
}

/** The new account's password: ADMIN_PASSWORD, or asked twice on a terminal (three tries). */
async function newPassword(request: SuperuserRequest, problemsOf: (r: SuperuserRequest, password: string) => string[]): Promise<string> {
  const fromEnv = process.env.ADMIN_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) {
    err('No password: set ADMIN_PASSWORD, or run this on a terminal to be asked for one.');
    throw new Exit(1);
  }
  const terminal = new HiddenInput(process.stdin);
  try {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const first = await terminal.line('Password: ');
      const second = await terminal.line('Password (again): ');
      const problems = first !== second ? ['The two passwords differ.'] : problemsOf(request, first);
      if (problems.length === 0) return first;
      for (const p of problems) err(`Password: ${p}`);
    }
  } finally {
    terminal.close();
  }
  err('No acceptable password after three tries.');
  throw new Exit(1);
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`${e.message}\n${USAGE.split('\n')[0]}\nSee --help.`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // The server's modules only now: help and usage errors answer at once.
  const [{ ConfigError, loadConfig }, { openDatabase }, { migrateToLatest }, { PasswordHasher }, { SuperuserError, createSuperuser, newPasswordProblems }] = await Promise.all([
    import('../config.js'),
    import('../db/connect.js'),
    import('../db/migrate.js'),
    import('../lib/passwords.js'),
    import('../modules/admin/superuser.js'),
  ]);
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`Configuration error: ${e.message}`);
    return 78;
  }
  let database: Database | undefined;
  try {
    database = openDatabase({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, poolSize: 2, onError: () => {} });
    await migrateToLatest(database);
    const hasher = new PasswordHasher(config.passwordHashConcurrency);
    const { outcome, user } = await createSuperuser({ db: database.db, hasher }, args.request, () => newPassword(args.request, newPasswordProblems));
    const who = `${user.username} <${user.email}> (id ${user.id})`;
    if (outcome === 'created') process.stdout.write(`Created staff account ${who}.\n`);
    else if (outcome === 'promoted') process.stdout.write(`Made ${who} staff; the password is unchanged.\n`);
    else process.stdout.write(`${who} is already staff; nothing changed.\n`);
    if (user.is_active !== 1) {
      process.stdout.write('Note: this account is deactivated; a member of staff can reactivate it (POST /api/admin/users/{id}/reactivate/).\n');
    }
    return 0;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof SuperuserError) {
      err(e.message);
      return 1;
    }
    err(`Failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await database?.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
