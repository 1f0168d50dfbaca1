// Request bodies for every route: JSON (an empty body counts as none, as Django REST Framework
// treats it, so clients that always send the header can POST …/join/), urlencoded forms, and a
// refusal of NUL characters anywhere in the input (PostgreSQL cannot store them in text).
import type { FastifyInstance } from 'fastify';
import { fieldErrors, type FieldErrors } from '../errors.js';

function findNul(value: unknown, path: string, out: FieldErrors, depth = 0): void {
  if (depth > 8) return;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out[path || 'non_field_errors'] = ['Null characters are not allowed.'];
  } else if (Array.isArray(value)) {
    for (const item of value) findNul(item, path, out, depth + 1);
  } else if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [k, v] of Object.entries(value)) findNul(v, path || k, out, depth + 1);
  }
}

export function registerBodyParsing(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    return parseJson(request, body as string, done);
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook('preValidation', async (request) => {
    const errors: FieldErrors = {};
    findNul(request.body, '', errors);
    findNul(request.query, '', errors);
    if (Object.keys(errors).length) throw fieldErrors(errors);
  });
}
