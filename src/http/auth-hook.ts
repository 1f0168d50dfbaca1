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
    /** false: the route is public. */
    auth?: boolean;
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
    if (route.config?.auth === false) return;
    route.schema = { ...route.schema, security: [{ bearerAuth: [] }] } as typeof route.schema;
  });
  app.addHook('onRequest', async (request) => {
    if (request.is404 || request.routeOptions.config.auth === false) return;
    const token = bearerToken(request.headers.authorization);
    const principal = token ? await auth.authenticate(token) : null;
    if (!principal) throw unauthorized();
    request.auth = principal;
  });
}
