// Walking the published OpenAPI document: every documented operation, values that fit or break
// its schemas, and checks of the contract's error shape. Used by malformed.test.ts.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { Method } from './chat-helpers.js';

/** The parts of a JSON Schema (as @fastify/swagger publishes TypeBox schemas) that the walk reads. */
export interface Schema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
}

export interface Operation {
  method: Method;
  /** The templated path, as documented: `/api/users/{id}/`. */
  path: string;
  /** `GET /api/users/{id}/`, for failure lists. */
  label: string;
  /** The operation declares `security` (a bearer token is required). */
  secured: boolean;
  pathParams: string[];
  query: Array<{ name: string; schema: Schema; required: boolean }>;
  /** Request body schemas by content type, or null when the operation takes no body. */
  body: Record<string, Schema> | null;
}

const METHODS: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Every documented operation except WebSocket upgrades (`/ws/…`) and the documentation pages (`/docs…`). */
export function operations(spec: { paths: Record<string, Record<string, any>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    if (path.startsWith('/ws/') || path.startsWith('/docs')) continue;
    for (const [m, op] of Object.entries(item)) {
      const method = m.toUpperCase() as Method;
      if (!METHODS.includes(method)) continue;
      const params: Array<{ in: string; name: string; required?: boolean; schema: Schema }> = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const body = op.requestBody?.content
        ? Object.fromEntries(Object.entries<{ schema: Schema }>(op.requestBody.content).map(([type, c]) => [type, c.schema ?? {}]))
        : null;
      out.push({
        method,
        path,
        label: `${method} ${path}`,
        secured: Array.isArray(op.security) && op.security.length > 0,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: !!p.required })),
        body,
      });
    }
  }
  return out;
}

/** The path with each `{name}` replaced (URL-encoded). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (values[name] === undefined) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeURIComponent(values[name]);
  });
}

export function types(schema: Schema): string[] {
  if (schema.type) return Array.isArray(schema.type) ? schema.type : [schema.type];
  if (schema.enum) return ['enum'];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return branches.flatMap(types);
  return [];
}

/** The first non-null branch of a nullable union, or the schema itself. */
function concrete(schema: Schema): Schema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return schema;
  return branches.find((b) => !types(b).includes('null')) ?? branches[0];
}

export type ValueHints = {
  /** Valid integers by property name (ids of real objects). */
  integers: Record<string, number>;
  /** Valid strings by property name. */
  strings: Record<string, () => string>;
};

/** A value that fits `schema` (hinted by the property name), or undefined for an untyped property. */
export function validValue(name: string, schema: Schema, hints: ValueHints): unknown {
  const s = concrete(schema);
  const t = types(s);
  if (s.enum) return s.enum[0];
  if (t.includes('integer') || t.includes('number')) return hints.integers[name] ?? Math.max(1, s.minimum ?? 1);
  if (t.includes('boolean')) return true;
  if (t.includes('string')) {
    if (hints.strings[name]) return hints.strings[name]();
    if (s.format === 'email') return hints.strings.email?.() ?? 'someone@example.com';
    return 'x'.repeat(Math.max(1, s.minLength ?? 1));
  }
  if (t.includes('array')) return [];
  if (t.includes('object')) return validBody(s, hints);
  return undefined;
}

/** An object with every required property of `schema` set to a fitting value. */
export function validBody(schema: Schema, hints: ValueHints): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const v = validValue(name, schema.properties?.[name] ?? {}, hints);
    out[name] = v === undefined ? 'x' : v;
  }
  return out;
}

export const BIG_STRING = 'x'.repeat(100_000);

/**
 * Ways to give a property a value of the wrong type. None is repaired by Ajv's type coercion
 * (Fastify coerces scalars, and scalars to one-element arrays): objects, arrays of two, and
 * strings that are no number, boolean or choice.
 */
export const WRONG_KINDS = {
  'a nested object': (_schema: Schema): unknown => ({ nested: {} }),
  'a 100 kB string': (_schema: Schema): unknown => BIG_STRING,
  'a mismatched scalar': (schema: Schema): unknown => {
    const s = concrete(schema);
    const t = types(s);
    if (s.enum) return 'no-such-choice';
    if (t.includes('integer') || t.includes('number')) return 'abc';
    if (t.includes('boolean')) return 'maybe';
    if (t.includes('string')) return ['x', 'y'];
    if (t.includes('array')) return { nested: {} };
    if (t.includes('object')) return 'x';
    return { nested: {} };
  },
} as const;

export type WrongKind = keyof typeof WRONG_KINDS;

/** Every documented property of `schema` set to a wrong value of the given kind. */
export function allWrong(schema: Schema, kind: WrongKind): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) out[name] = WRONG_KINDS[kind](prop);
  return out;
}

/** Short description of a response for failure lists. */
function describeResponse(res: LightMyRequestResponse): string {
  const body = res.body.length > 300 ? `${res.body.slice(0, 300)}…` : res.body;
  return `${res.statusCode} [${res.headers['content-type'] ?? 'no content-type'}] ${body}`;
}

/**
 * Why the response is not a contract error body (JSON: `{"detail": "..."}`, or DRF-style
 * `{"field": ["message", ...]}`), or null when it is one.
 */
function errorBodyProblem(res: LightMyRequestResponse): string | null {
  const type = String(res.headers['content-type'] ?? '');
  if (!/^application\/json\b/.test(type)) return 'the body is not application/json';
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return 'the body does not parse as JSON';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object';
  const o = body as Record<string, unknown>;
  if (typeof o.detail === 'string' && o.detail.length > 0) return null;
  const keys = Object.keys(o);
  if (keys.length > 0 && keys.every((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length > 0 && (o[k] as unknown[]).every((m) => typeof m === 'string'))) return null;
  return 'the body has neither "detail" nor field keys with lists of messages';
}

export type Expectation =
  /** A 4xx with a contract error body. */
  | 'error'
  /** Exactly this status, with a contract error body. */
  | number
  /** A 4xx error body, or 200 with a JSON body. */
  | 'error-or-200'
  /** Anything but a 5xx; always JSON (or empty for 204). */
  | 'not-5xx'
  /** A 4xx error body, or 200 with a file of any type (downloads). */
  | 'error-or-file';

/** Why `res` does not meet the expectation, or null. */
function unmet(res: LightMyRequestResponse, expected: Expectation): string | null {
  const status = res.statusCode;
  if (status >= 500) return 'a server error';
  if (typeof expected === 'number') {
    if (status !== expected) return `expected ${expected}`;
    return errorBodyProblem(res);
  }
  if (status >= 400) return errorBodyProblem(res);
  if (expected === 'error') return 'expected a 4xx';
  if (expected === 'error-or-200' && status !== 200) return 'expected a 4xx or 200';
  if (expected === 'error-or-file') return status === 200 ? null : 'expected a 4xx or 200';
  if (status === 204 && res.body === '') return null;
  if (!/^application\/json\b/.test(String(res.headers['content-type'] ?? ''))) return 'a success that is not JSON';
  return null;
}

/** Collects every offending request of a run, then fails once with the whole list. */
export class Failures {
  readonly items: string[] = [];
  checked = 0;

  check(label: string, res: LightMyRequestResponse, expected: Expectation): void {
    this.checked++;
    const problem = unmet(res, expected);
    if (problem) this.items.push(`${label}: ${problem} — got ${describeResponse(res)}`);
  }

  assertNone(title: string): void {
    assert.ok(this.checked > 0, `${title}: nothing was checked`);
    if (this.items.length === 0) return;
    const shown = this.items.slice(0, 200);
    const more = this.items.length > shown.length ? `\n  … and ${this.items.length - shown.length} more` : '';
    assert.fail(`${title}: ${this.items.length} of ${this.checked} requests failed:\n  ${shown.join('\n  ')}${more}`);
  }
}
