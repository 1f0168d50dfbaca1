// Table types for Kysely. Booleans are stored as 0/1 integers and times as ISO-8601 UTC
// text on both engines, so rows read the same on SQLite and PostgreSQL; repositories map
// rows to domain objects.
import type { ColumnType, Generated, Kysely, Selectable } from 'kysely';

type Id = Generated<number>;
type Flag = ColumnType<number, number | undefined, number>;

export interface UsersTable {
  id: Id;
  username: string;
  username_key: string;
  email: string;
  email_key: string;
  password_hash: string;
  first_name: Generated<string>;
  last_name: Generated<string>;
  bio: Generated<string>;
  profile_picture: string | null;
  is_active: Flag;
  date_joined: string;
  last_seen: string | null;
  deleted_at: string | null;
}

export interface SessionsTable {
  id: Id;
  user_id: number;
  refresh_gen: Generated<number>;
  refresh_hash: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
}

export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
}

export type Db = Kysely<DB>;
export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
