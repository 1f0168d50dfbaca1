// The search queries, one per database, over the indexes of migration 015, in which each
// message's room is part of the key. Both read the caller's rooms from searchableRoomIds() and
// rank the newest SEARCH_RANKED_MAX matches (FTS5 bm25 / ts_rank, ties newest first); older
// matches follow, newest first. `total` counts every match.
import { sql, type RawBuilder } from 'kysely';
import { isPostgres } from '../../db/dialect.js';
import type { Db } from '../../db/schema.js';
import type { Markers } from './search.highlight.js';
import { fts5Expression, tsqueryText, type QueryPart } from './search.query.js';
import { searchableRoomIds } from './search.scope.js';

export interface SearchFilter {
  userId: number;
  parts: QueryPart[];
  chatRoom?: number;
  sender?: number;
  limit: number;
  offset: number;
  /** SEARCH_RANKED_MAX unless given (tests give a small one). */
  rankedMax?: number;
}

export interface SearchHits {
  /** Best match first. */
  ids: number[];
  /** Every match of the search (not only this page's). */
  total: number;
  /** Each message's content as found, its matches between the request's markers. */
  marked: Map<number, string>;
}

/**
 * How many of the newest matches are ranked. A word in 1–4% of all messages matches hundreds of
 * messages in 30 rooms and thousands in 200: ranking each costs a few microseconds (bm25 reads
 * its positions; ts_rank its row), and a chat's useful matches are mostly recent ones. The newest
 * SEARCH_RANKED_MAX matches come best first; the older ones after them, newest first, so that
 * every match is still on some page and `count` stays exact. A multiple of the page size: no
 * page mixes the two orders.
 */
export const SEARCH_RANKED_MAX = 500;

/**
 * SQLite: a message's key in message_search_fts is `id * 2^32 + chat_room_id` (migration 015),
 * so the room of a match is read from its rowid, and rowid order is message order.
 */
const ROOM_MASK = 4294967295;

/**
 * PostgreSQL: the caller's rooms are asked for in clauses of at most this many rooms each. GIN
 * checks every entry of a clause for each message it returns: one clause of 200 rooms' lexemes
 * cost 18 ms for a common word where 8 clauses of 25 cost 7 ms (a member of 200 rooms, 2,484
 * matches at 1,000,000 messages).
 */
export const POSTGRES_ROOMS_PER_CLAUSE = 25;

/** The rooms searched: the caller's searchable rooms, or only `chatRoom` among them. */
function roomsOf(f: SearchFilter): RawBuilder<{ chat_room_id: number }> {
  const scope = searchableRoomIds(f.userId);
  return f.chatRoom === undefined ? scope : sql`select sr.chat_room_id from (${scope}) sr where sr.chat_room_id = ${f.chatRoom}`;
}

/**
 * SQLite: the matches in the caller's rooms, newest first. The room is checked on the rowid
 * (no row is read); FTS5 returns rowids in descending order itself, so a LIMIT stops the scan.
 */
function sqliteMatches(f: SearchFilter, expr: string, columns: RawBuilder<unknown>) {
  const sender = f.sender === undefined ? sql`` : sql`and (select m.sender_id from messages m where m.id = f.rowid >> 32) = ${f.sender}`;
  return sql`select ${columns} from message_search_fts f
    where message_search_fts match ${expr} and (f.rowid & ${ROOM_MASK}) in (${roomsOf(f)}) ${sender}
    order by f.rowid desc`;
}

async function sqliteFind(db: Db, f: SearchFilter, m: Markers): Promise<SearchHits> {
  const expr = fts5Expression(f.parts);
  const rankedMax = f.rankedMax ?? SEARCH_RANKED_MAX;
  const rows: Array<{ id: number; content: string }> = [];
  let total: number | undefined;
  if (f.offset < rankedMax) {
    const ranked = sqliteMatches(f, expr, sql`f.rowid as k, bm25(message_search_fts) as score`);
    const { rows: page } = await sql<{ id: number; content: string; total: number }>`
      select c.k >> 32 as id, m.content, c.total from (
        select r.k, r.score, count(*) over () as total from (${ranked} limit ${rankedMax}) r
        order by r.score, r.k desc limit ${Math.min(f.limit, rankedMax - f.offset)} offset ${f.offset}
      ) c join messages m on m.id = c.k >> 32 order by c.score, c.k desc`.execute(db);
    rows.push(...page);
    if (page.length > 0 && page[0].total < rankedMax) total = page[0].total;
  }
  if (total === undefined) {
    const { rows: counted } = await sql<{ total: number }>`select count(*) as total from (${sqliteMatches(f, expr, sql`1`)})`.execute(db);
    total = counted[0].total;
  }
  const tailStart = Math.max(f.offset, rankedMax);
  if (total > tailStart && f.offset + f.limit > tailStart) {
    const older = sqliteMatches(f, expr, sql`f.rowid as k`);
    const { rows: page } = await sql<{ id: number; content: string }>`
      select c.k >> 32 as id, m.content from (${older} limit ${f.offset + f.limit - tailStart} offset ${tailStart}) c
      join messages m on m.id = c.k >> 32 order by c.k desc`.execute(db);
    rows.push(...page);
  }
  return { ids: rows.map((r) => r.id), total, marked: await sqliteMarks(db, f.parts, rows, m) };
}

/**
 * PostgreSQL: `'r<room>_<lexeme>'` for each of `rooms` in place of each lexeme of `query` (the
 * text of a tsquery, as PostgreSQL writes it), its phrase operators made `&`: the index has no
 * positions (the phrase is checked on the row). Built as tsquery text, parsed by tsquery's input
 * (no text-search parser, no stemming: the lexemes are already stemmed).
 */
export function roomTsquery(query: string, rooms: number[]): string {
  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  return query.replace(/'((?:[^']|'')*)'(:[*A-Da-d]+)?|<(?:-|\d+)>/g, (token, lexeme: string | undefined, flags: string | undefined) => {
    if (lexeme === undefined) return '&';
    const text = lexeme.replace(/''/g, "'");
    const prefix = flags?.includes('*') ? ':*' : '';
    return `(${rooms.map((r) => `${quote(`r${r}_${text}`)}${prefix}`).join(' | ')})`;
  });
}

/** ts_headline's options: the whole text, matches between the request's markers. */
const headlineOptions = (m: Markers) => `StartSel=${m.open}, StopSel=${m.close}, HighlightAll=true`;

async function postgresFind(db: Db, f: SearchFilter, m: Markers): Promise<SearchHits> {
  const rankedMax = f.rankedMax ?? SEARCH_RANKED_MAX;
  const text = tsqueryText(f.parts);
  const query = sql`to_tsquery('english'::regconfig, ${text})`;
  // Its own transaction: the statements are planned for what they are, an index scan of a few
  // rooms' lexemes. The planner cannot estimate a disjunction of hundreds of room lexemes and
  // would otherwise take a table scan, parallel workers or JIT compilation for it.
  return db.transaction().execute(async (trx) => {
    // The settings hold for the transaction's later statements (set with the rooms' read: one
    // round trip). Statements are prepared per connection (db/connect.ts): plan each search for
    // its own words.
    const { rows: [asked] } = await sql<{ rooms: number[]; query: string }>`
      select set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true),
        set_config('max_parallel_workers_per_gather', '0', true), set_config('plan_cache_mode', 'force_custom_plan', true),
        array(${roomsOf(f)}) as rooms, ${query}::text as query`.execute(trx);
    const rooms = asked.rooms.map(Number).sort((a, b) => a - b);
    if (rooms.length === 0 || !asked.query.includes("'")) return { ids: [], total: 0, marked: new Map() };
    const clauses: RawBuilder<unknown>[] = [];
    for (let i = 0; i < rooms.length; i += POSTGRES_ROOMS_PER_CLAUSE) {
      clauses.push(sql`message_search_room_lexemes(s.chat_room_id, s.tsv) @@ ${roomTsquery(asked.query, rooms.slice(i, i + POSTGRES_ROOMS_PER_CLAUSE))}::tsquery`);
    }
    // The rooms again on the row, `+ 0` keeping the planner off the primary key: the lexemes
    // already hold only these rooms' messages.
    const phrase = asked.query.includes('<') ? sql`and s.tsv @@ ${query}` : sql``;
    const sender = f.sender === undefined ? sql`` : sql`and s.sender_id = ${f.sender}`;
    const matches = (columns: RawBuilder<unknown>) => sql`select ${columns} from message_search s
      where (${sql.join(clauses, sql` or `)}) and s.chat_room_id + 0 = any(${rooms}::integer[]) ${sender} ${phrase}
      order by s.message_id desc`;
    const marked = new Map<number, string>();
    const ids: number[] = [];
    let total: number | undefined;
    if (f.offset < rankedMax) {
      const { rows: page } = await sql<{ id: number; total: number; marked: string }>`
        select p.id, p.total, ts_headline('english'::regconfig, m.content, ${query}, ${headlineOptions(m)}) as marked from (
          select c.id, ts_rank(c.tsv, ${query}) as score, c.total from (
            ${matches(sql`s.message_id as id, s.tsv, count(*) over () as total`)} limit ${rankedMax}
          ) c order by score desc, id desc limit ${Math.min(f.limit, rankedMax - f.offset)} offset ${f.offset}
        ) p join messages m on m.id = p.id order by p.score desc, p.id desc`.execute(trx);
      for (const r of page) {
        ids.push(Number(r.id));
        marked.set(Number(r.id), r.marked);
      }
      if (page.length > 0) total = Number(page[0].total);
    }
    if (total === undefined) {
      const { rows: counted } = await sql<{ total: number }>`select count(*) as total from (${matches(sql`1`)}) hits`.execute(trx);
      total = Number(counted[0].total);
    }
    const tailStart = Math.max(f.offset, rankedMax);
    if (total > tailStart && f.offset + f.limit > tailStart) {
      const { rows: page } = await sql<{ id: number; marked: string }>`
        select c.id, ts_headline('english'::regconfig, m.content, ${query}, ${headlineOptions(m)}) as marked from (
          ${matches(sql`s.message_id as id`)} limit ${f.offset + f.limit - tailStart} offset ${tailStart}
        ) c join messages m on m.id = c.id order by c.id desc`.execute(trx);
      for (const r of page) {
        ids.push(Number(r.id));
        marked.set(Number(r.id), r.marked);
      }
    }
    return { ids, total, marked };
  });
}

/**
 * SQLite: each message's content with its matches between `m.open` and `m.close` (absent when
 * none is found). The contents go into a small temporary FTS5 table of the same tokenizer,
 * whose highlight() is exact and cheap; highlight() on the big index would need the page's rows
 * found again, rebuilding the query's prefix matches for each.
 */
async function sqliteMarks(db: Db, parts: QueryPart[], messages: Array<{ id: number; content: string }>, m: Markers): Promise<Map<number, string>> {
  if (messages.length === 0) return new Map();
  // One connection for the four statements: no other request's rows can come in between.
  return db.connection().execute(async (conn) => {
    await sql`create virtual table if not exists temp.search_highlight using fts5(content, tokenize = 'porter unicode61 remove_diacritics 2')`.execute(conn);
    await sql`delete from temp.search_highlight`.execute(conn);
    await sql`insert into temp.search_highlight (rowid, content)
      select json_extract(value, '$[0]'), json_extract(value, '$[1]') from json_each(${JSON.stringify(messages.map((x) => [x.id, x.content]))})`.execute(conn);
    const { rows } = await sql<{ id: number; marked: string }>`
      select rowid as id, highlight(search_highlight, 0, ${m.open}, ${m.close}) as marked
      from temp.search_highlight where search_highlight match ${fts5Expression(parts)}`.execute(conn);
    await sql`delete from temp.search_highlight`.execute(conn);
    return new Map(rows.map((r) => [r.id, r.marked]));
  });
}

export const searchRepository = {
  /** Whether `userId` may search `chatRoom` (the same scope as the search itself). */
  async canSearchRoom(db: Db, userId: number, chatRoom: number): Promise<boolean> {
    const { rows } = await sql`select 1 as ok from (${searchableRoomIds(userId)}) sr where sr.chat_room_id = ${chatRoom}`.execute(db);
    return rows.length > 0;
  },

  /**
   * One page of matches, best first, with each one's content marked (see Markers): on
   * PostgreSQL by ts_headline in the same statement, for the page's rows only; on SQLite by
   * sqliteMarks() over the page's contents.
   */
  find(db: Db, f: SearchFilter, m: Markers): Promise<SearchHits> {
    return isPostgres(db) ? postgresFind(db, f, m) : sqliteFind(db, f, m);
  },
};
