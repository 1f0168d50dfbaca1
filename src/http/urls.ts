import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/** The server's own origin: PUBLIC_URL when set, else from the request (honouring proxies with TRUST_PROXY). */
export function origin(request: FastifyRequest, config: Pick<Config, 'publicUrl'>): string {
  return config.publicUrl || `${request.protocol}://${request.host}`;
}

/** DRF-style `next`/`previous` links for page-numbered lists. */
export function pageLinks(request: FastifyRequest, config: Pick<Config, 'publicUrl'>, page: number, pageSize: number, count: number) {
  const url = new URL(request.url, origin(request, config));
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
