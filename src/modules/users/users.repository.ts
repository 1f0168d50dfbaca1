import { sql, type SelectQueryBuilder, type Updateable } from 'kysely';
import { preparedQuery, type Param } from '../../db/prepared.js';
import type { DB, Db, UserRow, UsersTable } from '../../db/schema.js';

export type NewUser = Pick<UserRow, 'username' | 'email' | 'password_hash' | 'first_name' | 'last_name' | 'bio' | 'profile_picture' | 'date_joined'>;

export const usernameKey = (username: string) => username.toLowerCase();
export const emailKey = (email: string) => email.trim().toLowerCase();

/** `%term%` for LIKE, with the term's own wildcards escaped (used with ESCAPE '\'). */
const likePattern = (term: string) => `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// Runs on every send (prepared once: see db/prepared.ts).
const activeById = preparedQuery((db, p: Param<{ id: number }>) => db.selectFrom('users').selectAll().where('id', '=', p('id')).where('is_active', '=', 1));

type UserListing = { search?: string; offset: number; limit: number };

/**
 * One page of `q` and its size, with `search` in username and names, and in email: anywhere in it
 * (`emailAnywhere`, the staff's view) or else only the whole address, so nobody reads addresses
 * they did not already know off the search.
 */
async function listing(q: SelectQueryBuilder<DB, 'users', {}>, opts: UserListing, emailAnywhere: boolean): Promise<{ count: number; rows: UserRow[] }> {
  const search = opts.search;
  if (search) {
    const p = likePattern(search);
    const cols = emailAnywhere ? ['username_key', 'email_key', 'first_name', 'last_name'] : ['username_key', 'first_name', 'last_name'];
    q = q.where((eb) =>
      eb.or([
        ...cols.map((col) => sql<boolean>`lower(${sql.ref(col)}) like ${p} escape '\\'`),
        ...(emailAnywhere ? [] : [eb('email_key', '=', emailKey(search))]),
      ]),
    );
  }
  const [{ count }, rows] = await Promise.all([
    q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
    q.selectAll().orderBy('id').offset(opts.offset).limit(opts.limit).execute(),
  ]);
  return { count: Number(count), rows };
}

export const usersRepository = {
  async insert(db: Db, u: NewUser): Promise<UserRow> {
    return db
      .insertInto('users')
      .values({ ...u, username_key: usernameKey(u.username), email_key: emailKey(u.email), is_active: 1 })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async findActive(db: Db, id: number): Promise<UserRow | undefined> {
    return (await activeById(db, { id }))[0];
  },

  findByEmail(db: Db, email: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('email_key', '=', emailKey(email)).executeTakeFirst();
  },

  async taken(db: Db, f: { username?: string; email?: string; exceptId?: number }): Promise<{ username: boolean; email: boolean }> {
    const username = f.username ? usernameKey(f.username) : null;
    const email = f.email ? emailKey(f.email) : null;
    if (!username && !email) return { username: false, email: false };
    let q = db.selectFrom('users').select(['username_key', 'email_key']);
    q = q.where((eb) => eb.or([...(username ? [eb('username_key', '=', username)] : []), ...(email ? [eb('email_key', '=', email)] : [])]));
    if (f.exceptId !== undefined) q = q.where('id', '!=', f.exceptId);
    const rows = await q.execute();
    return {
      username: !!username && rows.some((r) => r.username_key === username),
      email: !!email && rows.some((r) => r.email_key === email),
    };
  },

  /** Active accounts, oldest first, with `search` in username and names, or equal to the email. */
  list(db: Db, opts: UserListing): Promise<{ count: number; rows: UserRow[] }> {
    return listing(db.selectFrom('users').where('is_active', '=', 1), opts, false);
  },

  /** The accounts holding this username or this email (none, one, or two different ones). */
  findByUsernameOrEmail(db: Db, f: { username: string; email: string }): Promise<UserRow[]> {
    return db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb.or([eb('username_key', '=', usernameKey(f.username)), eb('email_key', '=', emailKey(f.email))]))
      .orderBy('id')
      .execute();
  },

  /** As list, with deactivated accounts too (not deleted ones, which are scrubbed placeholders): the staff's view. */
  listUndeleted(db: Db, opts: UserListing): Promise<{ count: number; rows: UserRow[] }> {
    return listing(db.selectFrom('users').where('deleted_at', 'is', null), opts, true);
  },

  /** Turns an account (not a deleted one) on or off; undefined when there is no such account. */
  setActive(db: Db, id: number, active: boolean): Promise<UserRow | undefined> {
    return db
      .updateTable('users')
      .set({ is_active: active ? 1 : 0 })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  },

  /** Makes an account (not a deleted one) staff; undefined when there is no such account. */
  makeStaff(db: Db, id: number): Promise<UserRow | undefined> {
    return db.updateTable('users').set({ is_staff: 1 }).where('id', '=', id).where('deleted_at', 'is', null).returningAll().executeTakeFirst();
  },

  async update(db: Db, id: number, patch: Updateable<UsersTable>): Promise<UserRow> {
    const values = { ...patch };
    if (patch.username !== undefined) values.username_key = usernameKey(patch.username);
    if (patch.email !== undefined) values.email_key = emailKey(patch.email);
    return db.updateTable('users').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  },
};
