// Serves the browser client from WEB_ROOT (see web.assets.ts): `/` is index.html (revalidated on
// every load, with a strict Content-Security-Policy), `/assets/<name>` the content-hashed files
// (cached for a year, immutable). Kept out of the OpenAPI document; API routes are unaffected.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../config.js';
import { AppError, notFound } from '../errors.js';
import { errors } from './schemas.js';
import { etagOf, loadWebClient, negotiate, notModified, type WebFile } from './web.assets.js';

/** host, host:port, IPv4 or [IPv6] with an optional port: anything else is left out of the CSP. */
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** The WebSocket origin the page may connect to: from PUBLIC_URL, else from the request. */
export function socketOrigin(request: FastifyRequest, config: Pick<Config, 'publicUrl'>): string | null {
  if (config.publicUrl) {
    const u = new URL(config.publicUrl);
    return `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}`;
  }
  const host = request.host;
  if (typeof host !== 'string' || !HOST.test(host)) return null;
  return `${request.protocol === 'https' ? 'wss' : 'ws'}://${host}`;
}

export function contentSecurityPolicy(ws: string | null): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "font-src 'self'",
    `connect-src 'self'${ws ? ` ${ws}` : ''}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const INDEX_CACHE = 'no-cache';
const ASSET_CACHE = 'public, max-age=31536000, immutable';
const NOT_BUILT = 'The web client is not built: run npm run build.';

function sendFile(request: FastifyRequest, reply: FastifyReply, file: WebFile, cacheControl: string) {
  const { encoding, body } = negotiate(file, request.headers['accept-encoding']);
  reply.header('vary', 'Accept-Encoding').header('cache-control', cacheControl).header('etag', etagOf(file, encoding));
  if (notModified(file, request.headers['if-none-match'])) return reply.code(304).send();
  reply.header('content-type', file.type).header('content-length', body.length);
  if (encoding !== 'identity') reply.header('content-encoding', encoding);
  return reply.send(body);
}

const FileResponse = Type.Unsafe({ description: 'The file, compressed with br or gzip when Accept-Encoding allows it' });
const NotModified = Type.Null({ description: 'Not modified (If-None-Match)' });

export const webRoutes: FastifyPluginAsyncTypebox<{ config: Readonly<Config> }> = async (app, { config }) => {
  const client = loadWebClient(config.webRoot);
  if (!client) app.log.warn({ webRoot: config.webRoot }, 'the web client is not built (no index.html in WEB_ROOT): GET / answers 503 until `npm run build` has run');

  // Every answer of these routes, errors included.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
  });

  app.get('/', {
    config: { auth: false },
    schema: {
      hide: true,
      summary: 'The web client (index.html)',
      description:
        'Revalidated on every load (`Cache-Control: no-cache`, ETag, 304), with a strict Content-Security-Policy whose connect-src names the ' +
        'WebSocket origin (from PUBLIC_URL, else the request). 503 `web_client_missing` when WEB_ROOT has no index.html.',
      response: { 200: FileResponse, 304: NotModified, ...errors(503) },
    },
  }, async (request, reply) => {
    if (!client) throw new AppError(503, 'web_client_missing', NOT_BUILT);
    reply
      .header('content-security-policy', contentSecurityPolicy(socketOrigin(request, config)))
      .header('x-frame-options', 'DENY');
    return sendFile(request, reply, client.index, INDEX_CACHE);
  });

  app.get('/assets/*', {
    config: { auth: false },
    schema: {
      hide: true,
      summary: 'A content-hashed asset of the web client',
      description: 'Only files the build wrote under WEB_ROOT/assets/ (read at start); anything else is 404. Cached for a year (immutable).',
      params: Type.Object({ '*': Type.String({ maxLength: 512 }) }),
      response: { 200: FileResponse, 304: NotModified, ...errors(404) },
    },
  }, async (request, reply) => {
    const file = client?.assets.get(request.params['*']);
    if (!file) throw notFound();
    return sendFile(request, reply, file, ASSET_CACHE);
  });
};
