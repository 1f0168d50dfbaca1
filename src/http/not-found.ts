// Unknown routes answer 404 JSON; a known path with the wrong method answers 405 with Allow.
import FindMyWay from 'find-my-way';
import type { FastifyInstance, HTTPMethods } from 'fastify';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export function registerNotFound(app: FastifyInstance): void {
  const known = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethods[];
    for (const m of methods) {
      if ((METHODS as readonly string[]).includes(m) && !known.find(m as (typeof METHODS)[number], route.url)) {
        known.on(m as (typeof METHODS)[number], route.url, () => {});
      }
    }
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = METHODS.filter((m) => known.find(m, path));
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({ detail: `Method "${request.method}" not allowed.`, code: 'method_not_allowed' });
    }
    return reply.code(404).send({ detail: 'Not found.', code: 'not_found' });
  });
}
