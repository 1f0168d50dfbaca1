// Hot-path queries built and compiled by Kysely once per dialect, then run with new
// parameters: the builder and compiler cost more than our small statements themselves.
import type { Compilable, CompiledQuery } from 'kysely';
import { isPostgres } from './dialect.js';
import type { Db } from './schema.js';

const SENTINEL = '\u0000param:';

type Slot = { name: string } | { value: unknown };

interface Compiled {
  query: CompiledQuery;
  slots: Slot[];
}

/** The `param` function a prepared query's builder receives; annotate it to type the parameters. */
export type Param<P> = <K extends keyof P & string>(name: K) => P[K];

/**
 * `build` receives `param(name)`, a stand-in for a value given at run time; it must be used
 * where Kysely makes a bound parameter (values, comparisons), never as an identifier or in an
 * `in` list. Returns a function that runs the compiled query with `params` and gives its rows.
 */
export function preparedQuery<P extends Record<string, unknown>, R>(
  build: (db: Db, param: Param<P>) => Compilable<R>,
): (db: Db, params: P) => Promise<R[]> {
  const byDialect: { sqlite?: Compiled; postgres?: Compiled } = {};
  const compile = (db: Db): Compiled => {
    const query = build(db, (name) => `${SENTINEL}${name}` as never).compile();
    if (query.sql.includes(SENTINEL)) throw new Error(`a prepared query's parameter became SQL text: ${query.sql}`);
    const slots = query.parameters.map((p): Slot => (typeof p === 'string' && p.startsWith(SENTINEL) ? { name: p.slice(SENTINEL.length) } : { value: p }));
    return { query, slots };
  };
  return async (db, params) => {
    const dialect = isPostgres(db) ? 'postgres' : 'sqlite';
    const c = (byDialect[dialect] ??= compile(db));
    const parameters = c.slots.map((s) => ('name' in s ? (params[s.name] ?? null) : s.value));
    const { rows } = await db.executeQuery<R>({ ...c.query, parameters });
    return rows;
  };
}
