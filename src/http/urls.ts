import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HOST_PATTERN, type Config } from '../config.js';
import { badRequest } from '../errors.js';

type UrlConfig = Pick<Config, 'publicUrl' | 'allowedHosts'>;

/**
 * Refuses (400) a request whose Host (X-Forwarded-Host behind a trusted proxy) is malformed or,
 * with ALLOWED_HOSTS set, not listed: links the server builds from it can then only name this server.
 */
export function registerHostCheck(app: FastifyInstance, config: UrlConfig): void {
  const allowed = config.allowedHosts && new Set([...config.allowedHosts, ...(config.publicUrl ? [new URL(config.publicUrl).host.toLowerCase()] : [])]);
  app.addHook('onRequest', async (request) => {
    const host = request.host;
    if (!HOST_PATTERN.test(host) || (allowed && !allowed.has(host.toLowerCase()))) throw badRequest('Invalid Host header.', 'invalid_host');
  });
}

/** The server's own origin: PUBLIC_URL when set, else from the request's (checked) Host, honouring proxies with TRUST_PROXY. */
export function origin(request: FastifyRequest, config: Pick<Config, 'publicUrl'>): string {
  return config.publicUrl || `${request.protocol}://${request.host}`;
}

/** This request's URL on the server's origin; repeated slashes in its path are one (`//api` is a path, never a host). */
export function requestUrl(request: FastifyRequest, config: Pick<Config, 'publicUrl'>): URL {
  const url = new URL(origin(request, config));
  const q = request.url.indexOf('?');
  url.pathname = (q === -1 ? request.url : request.url.slice(0, q)).replace(/\/{2,}/g, '/');
  url.search = q === -1 ? '' : request.url.slice(q);
  return url;
}

/** DRF-style `next`/`previous` links for page-numbered lists. */
export function pageLinks(request: FastifyRequest, config: Pick<Config, 'publicUrl'>, page: number, pageSize: number, count: number) {
  const url = requestUrl(request, config);
  const link = (p: number) => {
    if (p === 1) url.searchParams.delete('page');
    else url.searchParams.set('page', String(p));
    return url.toString();
  };
  return {
    next: page * pageSize < count ? link(page + 1) : null,
    previous: page > 1 ? link(Math.min(page - 1, Math.max(1, Math.ceil(count / pageSize)))) : null,
  };
}
