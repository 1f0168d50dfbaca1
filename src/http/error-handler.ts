// The one place errors become responses: JSON in the contract's shape, never a stack trace.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/dialect.js';
import { AppError, type FieldErrors } from '../errors.js';

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Ajv errors → `{"field": ["message"]}`, as Django REST Framework reports them. */
export function validationToFields(items: ValidationItem[], context?: string): FieldErrors {
  const fields: FieldErrors = {};
  for (const item of items) {
    const segments = (item.instancePath ?? '').split('/').filter(Boolean);
    let field = segments[0] ?? '';
    let message = item.message ?? 'Invalid value.';
    if (item.keyword === 'required') {
      field = field || String(item.params?.missingProperty ?? '');
      message = 'This field is required.';
    } else if (item.keyword === 'additionalProperties') {
      field = field || String(item.params?.additionalProperty ?? '');
      message = 'Unknown field.';
    } else if (item.keyword === 'maxLength') {
      message = `Ensure this field has no more than ${item.params?.limit} characters.`;
    } else if (item.keyword === 'minLength') {
      message = item.params?.limit === 1 ? 'This field may not be blank.' : `Ensure this field has at least ${item.params?.limit} characters.`;
    } else if (item.keyword === 'format' && item.params?.format === 'email') {
      message = 'Enter a valid email address.';
    } else if (item.keyword === 'pattern') {
      message = 'Enter a valid value: it has characters that are not allowed here.';
    } else if (item.keyword === 'type' && item.params?.type === 'integer') {
      message = 'A valid integer is required.';
    }
    const key = field || (context === 'querystring' || context === 'params' ? 'detail' : 'non_field_errors');
    (fields[key] ??= []).includes(message) || fields[key].push(message);
  }
  return fields;
}

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'Request body is too large.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'Unsupported media type in request.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'JSON parse error - empty body.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'Content-Length does not match the body.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'JSON parse error.'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'Expected a multipart/form-data request.'],
  FST_REQ_FILE_TOO_LARGE: [413, 'The uploaded file is too large.'],
  FST_FILES_LIMIT: [413, 'Too many files in the request.'],
  FST_FIELDS_LIMIT: [413, 'Too many fields in the request.'],
  FST_PARTS_LIMIT: [413, 'Too many parts in the request.'],
  // Raised by the router before any route matches (through the app's frameworkErrors).
  FST_ERR_BAD_URL: [400, 'Malformed URL: invalid percent-encoding in the path.'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'A path segment is too long.'],
};

/**
 * @fastify/busboy reports a malformed multipart body (no or an unusable boundary, data cut off
 * before the closing boundary) with plain Errors that carry no code or status: the client's
 * fault, so 400, not 500.
 */
const MULTIPART_PARSE_ERRORS = [
  /^Multipart: Boundary not found$/,
  /^Boundary required$/,
  /unexpected end of multipart data$/i,
  /^The needle cannot/,
  /^Unsupported Content-Type\.$/,
];
/** ioredis giving up on a command while Redis is unreachable (it retries a few times first). */
const isRedisUnavailable = (e: unknown) =>
  e instanceof Error && (e.name === 'MaxRetriesPerRequestError' || e.message === 'Connection is closed.' || /^Stream isn't writeable/.test(e.message));

const isMultipartParseError = (e: FastifyError) =>
  !e.code && !e.statusCode && typeof e.message === 'string' && MULTIPART_PARSE_ERRORS.some((re) => re.test(e.message));

export function sendError(reply: FastifyReply, err: unknown, request: FastifyRequest): FastifyReply {
  if (err instanceof AppError) {
    if (err.headers) reply.headers(err.headers);
    return reply.code(err.statusCode).send(err.fields ?? { detail: err.message, code: err.code });
  }
  const e = err as FastifyError & { validationContext?: string };
  if (e.validation) {
    return reply.code(400).send(validationToFields(e.validation as ValidationItem[], e.validationContext));
  }
  const known = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (known) return reply.code(known[0]).send({ detail: known[1], code: e.code });
  if (isMultipartParseError(e)) return reply.code(400).send({ detail: 'Malformed multipart/form-data body.', code: 'parse_error' });
  if (e instanceof SyntaxError || (e.statusCode === 400 && e.code?.startsWith('FST_'))) {
    return reply.code(400).send({ detail: 'Malformed request.', code: 'parse_error' });
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return reply.code(e.statusCode).send({ detail: e.message, code: e.code ?? 'client_error' });
  }
  if (isDatabaseUnavailable(err)) {
    request.log.warn({ err: (err as Error).message }, 'database unavailable');
    return reply.code(503).header('retry-after', '5').send({ detail: 'The database is unavailable: try again in a few seconds.', code: 'unavailable', request_id: request.id });
  }
  if (isRedisUnavailable(err)) {
    request.log.warn({ err: (err as Error).message }, 'redis unavailable');
    return reply.code(503).header('retry-after', '5').send({ detail: 'A shared service (Redis) is unavailable: try again in a few seconds.', code: 'unavailable', request_id: request.id });
  }
  request.log.error({ err }, 'unhandled error');
  return reply.code(500).send({ detail: 'Internal server error.', code: 'server_error', request_id: request.id });
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(reply, err, request));
}
