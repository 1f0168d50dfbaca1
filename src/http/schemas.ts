// Schemas shared by every module: errors, pagination, ids.
import { Type, type TSchema } from 'typebox';

export const ErrorDetail = Type.Object(
  { detail: Type.Optional(Type.String()), code: Type.Optional(Type.String()), request_id: Type.Optional(Type.String()) },
  { additionalProperties: true, description: '`{"detail": "...", "code": "..."}`; a 400 may instead map field names to lists of messages, as Django REST Framework does.' },
);

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input: `{"field": ["message"]}` or `{"detail": "..."}`',
  401: 'Missing, malformed, expired or revoked access token',
  403: 'Not allowed for this user',
  404: 'No such object, or not visible to this user',
  409: 'Conflicts with the current state',
  413: 'Body or file over the configured limit',
  429: 'Rate limited; see the Retry-After header',
};

/** Response schemas for the given error statuses (documented in OpenAPI, rendered by the error handler). */
export function errors(...codes: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const c of codes) out[c] = { ...ErrorDetail, description: ERROR_TEXT[c] ?? 'Error' };
  return out;
}

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

export const Page = Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })) });

export function Paginated<T extends TSchema>(item: T) {
  return Type.Object({
    count: Type.Integer(),
    next: Type.Union([Type.String(), Type.Null()]),
    previous: Type.Union([Type.String(), Type.Null()]),
    results: Type.Array(item),
  });
}

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/**
 * `Nullable` for request bodies. The validator coerces types, and a `{"type": "null"}` branch
 * would take 0, false and "" as null (`"reply_to": 0` silently meaning none); `const` never coerces.
 * null comes first: the other branch would coerce null to 0 or "" before `const` saw it.
 */
export const NullableInput = <T extends TSchema>(t: T) => Type.Union([Type.Unsafe<null>({ const: null }), t]);
export const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
