// Migrations are frozen TypeScript modules listed here in order; they run at start.
// On PostgreSQL a session-level advisory lock makes concurrent starts take turns.
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import type { Database } from './connect.js';
import type { DialectName } from './dialect.js';
import * as m001 from './migrations/001-accounts.js';
import * as m002 from './migrations/002-conversations.js';
import * as m003 from './migrations/003-attachments-reactions-notifications-keys.js';
import * as m004 from './migrations/004-bigint-log-ids.js';
import * as m005 from './migrations/005-room-event-seq.js';
import * as m006 from './migrations/006-moderation.js';
import * as m007 from './migrations/007-threads-pins-mentions.js';
import * as m008 from './migrations/008-search.js';
import * as m009 from './migrations/009-departures-index.js';
import * as m010 from './migrations/010-deleted-accounts.js';
import * as m011 from './migrations/011-e2ee.js';
import * as m013 from './migrations/013-thread-summary-trigger.js';
import * as m014 from './migrations/014-events-message-index.js';
import * as m015 from './migrations/015-search-rooms.js';
import * as m016 from './migrations/016-search-index-no-pending-list.js';
import * as m017 from './migrations/017-foreign-key-indexes.js';

type Step = { up(db: Kysely<any>, dialect: DialectName): Promise<void> };

const STEPS: Record<string, Step> = {
  '001-accounts': m001,
  '002-conversations': m002,
  '003-attachments-reactions-notifications-keys': m003,
  '004-bigint-log-ids': m004,
  '005-room-event-seq': m005,
  '006-moderation': m006,
  '007-threads-pins-mentions': m007,
  '008-search': m008,
  '009-departures-index': m009,
  '010-deleted-accounts': m010,
  '011-e2ee': m011,
  '013-thread-summary-trigger': m013,
  '014-events-message-index': m014,
  '015-search-rooms': m015,
  '016-search-index-no-pending-list': m016,
  '017-foreign-key-indexes': m017,
};

const MIGRATION_LOCK = 727_274_001;

/** Migrates to the newest step, or (`upTo`, for tests of a step's data changes) to that step. */
export async function migrateToLatest({ db, dialect }: Database, upTo?: keyof typeof STEPS): Promise<void> {
  const migrations: Record<string, Migration> = {};
  for (const [name, step] of Object.entries(STEPS)) {
    migrations[name] = { up: (d) => step.up(d, dialect) };
  }
  const runOn = async (executor: Kysely<any>) => {
    const migrator = new Migrator({ db: executor, provider: { getMigrations: async () => migrations } });
    const { error } = upTo ? await migrator.migrateTo(upTo) : await migrator.migrateToLatest();
    if (error) throw error;
  };
  if (dialect !== 'postgres') return runOn(db);
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
    try {
      await runOn(conn);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
    }
  });
}
