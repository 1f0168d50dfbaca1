// Authentication for every route unless its config says `auth: false` (secure by default).
import type { FastifyInstance } from 'fastify';
import { unauthorized } from '../errors.js';
import type { AuthService, Principal } from '../modules/auth/auth.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every authenticated route. */
    auth: Principal;
  }
  interface FastifyContextConfig {
    /** false: the route is public. 'optional': a valid bearer token sets `request.auth`, none leaves it null (the route decides). */
    auth?: boolean | 'optional';
  }
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

export function registerAuthHook(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('auth', null as unknown as Principal);
  app.addHook('onRoute', (route) => {
    const mode = route.config?.auth;
    if (mode === false) return;
    route.schema = { ...route.schema, security: mode === 'optional' ? [{ bearerAuth: [] }, {}] : [{ bearerAuth: [] }] } as typeof route.schema;
  });
  app.addHook('onRequest', async (request) => {
    const mode = request.routeOptions.config.auth;
    if (request.is404 || mode === false) return;
    const token = bearerToken(request.headers.authorization);
    const principal = token ? await auth.authenticate(token) : null;
    if (principal) request.auth = principal;
    else if (mode !== 'optional') throw unauthorized();
  });
}
