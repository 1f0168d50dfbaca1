-- The tables a send touches, as src/db/migrations/001–004 make them on PostgreSQL (same
-- columns, types, constraints, foreign keys and indexes), plus the two columns of the new
-- write path: chat_rooms.event_seq and events.seq (unique per room). Seeded with :rooms
-- private rooms of two members each: room k has users 2k-1 (the sender) and 2k.
create table users (
  id serial primary key,
  username text not null,
  username_key text not null unique,
  email text not null,
  email_key text not null unique,
  password_hash text not null,
  first_name text not null default '',
  last_name text not null default '',
  bio text not null default '',
  profile_picture text,
  is_active integer not null default 1,
  date_joined text not null,
  last_seen text,
  deleted_at text
);

create table chat_rooms (
  id serial primary key,
  room_type text not null,
  name text not null default '',
  is_public integer not null default 1,
  created_by integer references users (id) on delete set null,
  private_key text unique,
  created_at text not null,
  updated_at text not null,
  event_seq integer not null default 0
);
create index chat_rooms_public_idx on chat_rooms (room_type, is_public);

create table memberships (
  id serial primary key,
  chat_room_id integer not null references chat_rooms (id) on delete cascade,
  user_id integer not null references users (id) on delete cascade,
  role text not null default 'member',
  is_active integer not null default 1,
  joined_at text not null,
  left_at text,
  last_read_message_id integer,
  marked_unread integer not null default 0,
  hidden_at_message_id integer,
  is_muted integer not null default 0,
  constraint memberships_room_user_uq unique (chat_room_id, user_id)
);
create index memberships_user_idx on memberships (user_id, is_active);
create index memberships_room_idx on memberships (chat_room_id, is_active);

create table messages (
  id serial primary key,
  chat_room_id integer not null references chat_rooms (id) on delete cascade,
  sender_id integer not null references users (id) on delete cascade,
  client_id text,
  content text not null,
  public_key text,
  reply_to_id integer references messages (id) on delete set null,
  is_edited integer not null default 0,
  is_deleted integer not null default 0,
  created_at text not null,
  updated_at text not null,
  constraint messages_sender_client_uq unique (sender_id, client_id)
);
create index messages_room_idx on messages (chat_room_id, id);

create table reactions (
  id serial primary key,
  message_id integer not null references messages (id) on delete cascade,
  user_id integer not null references users (id) on delete cascade,
  reaction_type text not null,
  created_at text not null,
  updated_at text not null,
  constraint reactions_message_user_uq unique (message_id, user_id)
);

create table notifications (
  id bigserial primary key,
  user_id integer not null references users (id) on delete cascade,
  type text not null,
  body text not null,
  chat_room_id integer references chat_rooms (id) on delete cascade,
  message_id integer references messages (id) on delete cascade,
  reaction_id integer references reactions (id) on delete cascade,
  actor_id integer references users (id) on delete set null,
  is_read integer not null default 0,
  created_at text not null
);
create index notifications_user_idx on notifications (user_id, id);
create index notifications_message_idx on notifications (message_id);

create table events (
  id bigserial primary key,
  chat_room_id integer not null,
  user_id integer,
  message_id integer,
  type text not null,
  payload text not null,
  created_at text not null,
  recipient_id integer,
  seq integer
);
create index events_room_idx on events (chat_room_id, id);
create index events_message_idx on events (message_id);
create index events_recipient_idx on events (recipient_id, id);
create unique index events_room_seq_uq on events (chat_room_id, seq);

insert into users (username, username_key, email, email_key, password_hash, first_name, last_name, date_joined)
select 'user' || i, 'user' || i, 'user' || i || '@bench.example', 'user' || i || '@bench.example', 'x', 'Ann', 'Example', now()::text
from generate_series(1, 2 * :rooms) as i;

insert into chat_rooms (room_type, name, is_public, created_by, private_key, created_at, updated_at)
select 'private', '', 0, 2 * k - 1, (2 * k - 1) || ':' || (2 * k), now()::text, now()::text
from generate_series(1, :rooms) as k;

insert into memberships (chat_room_id, user_id, joined_at)
select k, 2 * k - 1 + j, now()::text
from generate_series(1, :rooms) as k, generate_series(0, 1) as j
order by k, j;

analyze;
