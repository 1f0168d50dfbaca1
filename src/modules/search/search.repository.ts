// The search queries, one per database, over the indexes of migration 008. Both scope the
// matches to searchableRoomIds() inside the query, rank them (FTS5 bm25 / ts_rank, ties newest
// first) and count them in the same pass: ranking reads every match anyway.
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
  /** FEW_MATCHES unless given (tests give 0 or a billion to take either way of narrowing by room). */
  fewMatches?: number;
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
 * How the caller's rooms narrow the matches, chosen per query from what the index says:
 * - few matches in all rooms (under FEW_MATCHES): the index finds them all and each is checked
 *   against the caller's rooms (a join on SQLite, a filter on the row on PostgreSQL), for about
 *   a millisecond, instead of listing every message of the caller's rooms (4–8 ms for 30 rooms);
 * - more: SQLite ANDs the words with the caller's rooms inside FTS5 (each room id is a token of
 *   the `chat_room_id` column) when they are at most SQLITE_ROOMS_IN_INDEX_MAX, and PostgreSQL
 *   intersects the GIN index's matches with the rooms' range of the primary key.
 * Beyond SQLITE_ROOMS_IN_INDEX_MAX rooms, merging their OR inside FTS5 costs more than the join
 * saves. Measured at 1,000,000 messages in 1,000 rooms (bench/README.md, "Search"): a common word
 * for a member of 30 rooms, 10 ms in the index against 35 ms by the join; of 200 rooms, 77 ms
 * against 40 ms; a rare word (90 matches), 4.2 ms in the index against 0.4 ms by the join.
 */
export const FEW_MATCHES = 1000;
export const SQLITE_ROOMS_IN_INDEX_MAX = 50;

/** The rooms searched: the caller's searchable rooms, or only `chatRoom` among them. */
function roomsOf(f: SearchFilter): RawBuilder<{ chat_room_id: number }> {
  const scope = searchableRoomIds(f.userId);
  return f.chatRoom === undefined ? scope : sql`select sr.chat_room_id from (${scope}) sr where sr.chat_room_id = ${f.chatRoom}`;
}

function sqliteMatches(f: SearchFilter, expr: string) {
  const rooms = roomsOf(f);
  const threshold = f.fewMatches ?? FEW_MATCHES;
  const few = sql`(select count(*) from (select 1 from messages_fts where messages_fts match ${expr} limit ${threshold})) < ${threshold}`;
  const match = sql`(select case when count(*) between 1 and ${SQLITE_ROOMS_IN_INDEX_MAX} and not ${few}
      then '(' || ${expr} || ') AND chat_room_id : (' || group_concat('"' || r.chat_room_id || '"', ' OR ') || ')'
      else ${expr} end
    from (${rooms}) r)`;
  const sender = f.sender === undefined ? sql`` : sql`and m.sender_id = ${f.sender}`;
  return sql`select f.rowid as id, bm25(messages_fts, 1.0, 0.0) as score, m.content as content
    from messages_fts f join messages m on m.id = f.rowid
    where messages_fts match ${match} and m.chat_room_id in (${rooms}) and m.is_deleted = 0 ${sender}`;
}

/** `few`: filter the matches by room on the row (`+ 0` keeps the planner off the primary key). */
function postgresMatches(f: SearchFilter, tsquery: string, few: boolean) {
  const rooms = roomsOf(f);
  const inRooms = few ? sql`s.chat_room_id + 0 = any(array(${rooms}))` : sql`s.chat_room_id = any(array(${rooms}))`;
  const room = f.chatRoom === undefined ? sql`` : sql`and s.chat_room_id = ${f.chatRoom}`;
  const sender = f.sender === undefined ? sql`` : sql`and s.sender_id = ${f.sender}`;
  return sql`select s.message_id as id, ts_rank(s.tsv, to_tsquery('english'::regconfig, ${tsquery})) as score
    from message_search s
    where s.tsv @@ to_tsquery('english'::regconfig, ${tsquery}) and ${inRooms} ${room} ${sender}`;
}

/**
 * Whether the planner expects fewer than FEW_MATCHES messages in all rooms (from its statistics
 * of the tsvectors; planning only). A phrase counts as its words anywhere: the GIN index has no
 * positions, so each message holding them all is read to check their order.
 */
async function postgresFewMatches(db: Db, tsquery: string, threshold: number): Promise<boolean> {
  const candidates = tsquery.replaceAll(' <-> ', ' & ');
  const { rows } = await sql<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>`
    explain (format json) select 1 from message_search where tsv @@ to_tsquery('english'::regconfig, ${candidates})`.execute(db);
  return rows[0]['QUERY PLAN'][0].Plan['Plan Rows'] < threshold;
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

/** ts_headline's options: the whole text, matches between the request's markers. */
const headlineOptions = (m: Markers) => `StartSel=${m.open}, StopSel=${m.close}, HighlightAll=true`;

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
  async find(db: Db, f: SearchFilter, m: Markers): Promise<SearchHits> {
    const pg = isPostgres(db);
    const tsquery = tsqueryText(f.parts);
    const matches = pg ? postgresMatches(f, tsquery, await postgresFewMatches(db, tsquery, f.fewMatches ?? FEW_MATCHES)) : sqliteMatches(f, fts5Expression(f.parts));
    // bm25 is lower for better matches, ts_rank higher.
    const best = pg ? sql`score desc, id desc` : sql`score, id desc`;
    const page = sql`select id, score, count(*) over () as total${pg ? sql`` : sql`, content`} from (${matches}) hits
      order by ${best} limit ${f.limit} offset ${f.offset}`;
    let marked: Map<number, string>;
    let rows: Array<{ id: number; total: number }>;
    if (pg) {
      const result = await sql<{ id: number; total: number; marked: string }>`
        select p.id, p.score, p.total, ts_headline('english'::regconfig, m.content, to_tsquery('english'::regconfig, ${tsquery}), ${headlineOptions(m)}) as marked
        from (${page}) p join messages m on m.id = p.id order by p.score desc, p.id desc`.execute(db);
      rows = result.rows;
      marked = new Map(result.rows.map((r) => [Number(r.id), r.marked]));
    } else {
      const result = await sql<{ id: number; total: number; content: string }>`${page}`.execute(db);
      rows = result.rows;
      marked = await sqliteMarks(db, f.parts, result.rows, m);
    }
    if (rows.length > 0 || f.offset === 0) return { ids: rows.map((r) => Number(r.id)), total: rows.length ? Number(rows[0].total) : 0, marked };
    // A page past the end: count on its own.
    const { rows: counted } = await sql<{ total: number }>`select count(*) as total from (${matches}) hits`.execute(db);
    return { ids: [], total: Number(counted[0].total), marked };
  },
};
