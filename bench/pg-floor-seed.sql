-- The floor's rooms (bench/pg-floor.ts), on a database migrated as the server migrates it:
-- 2 × :rooms users and :rooms private rooms of two members (user 2k-1 sends in room k).
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
