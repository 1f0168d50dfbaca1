// Log-in for the web client: the refresh token lives in an HttpOnly, SameSite=Strict cookie scoped
// to these routes, so no script on the page can read it; the access token is in the JSON answer.
// The cookie is the credential, so each route also needs X-Requested-With (a cross-site form cannot
// set it). The bearer routes (/api/auth/token/…) are unchanged.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { AppError, unauthorized } from '../../errors.js';
import { readCookies, serializeCookie } from '../../http/cookies.js';
import { limitPerIp } from '../../http/rate-limit-hook.js';
import { errors } from '../../http/schemas.js';
import { usersRepository } from '../users/users.repository.js';
import { userView } from '../users/users.view.js';
import type { AuthService } from './auth.service.js';
import { REFRESH_REUSE_GRACE_MS } from './auth.service.js';
import { BrowserSession, LoginBody, NoBody } from './auth.schemas.js';

export const REFRESH_COOKIE = 'chat_refresh';
export const SESSION_PATH = '/api/auth/session/';

/** Refuses a request without X-Requested-With: a cross-site HTML form cannot send that header. */
export async function requireRequestedWith(request: FastifyRequest): Promise<void> {
  const value = request.headers['x-requested-with'];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AppError(403, 'csrf_header_missing', 'This route needs the X-Requested-With header (any value, e.g. XMLHttpRequest).');
  }
}

/** These routes need no body: none at all is validated as `{}` (JSON `null` and the like are still refused). */
const noBodyIsEmpty = async (request: FastifyRequest) => {
  if (request.body === undefined) request.body = {};
};

const CSRF_TEXT = 'Needs the header `X-Requested-With` (any non-empty value; 403 `csrf_header_missing` without it). ';
const COOKIE_TEXT =
  `The cookie: \`${REFRESH_COOKIE}=<refresh token>; HttpOnly; SameSite=Strict; Path=${SESSION_PATH}; Max-Age=<REFRESH_TOKEN_TTL>\`, ` +
  'plus `Secure` when the request came over HTTPS (as TRUST_PROXY lets the server see it) or PUBLIC_URL is https. ';

export const browserSessionRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; auth: AuthService }> = async (app, { ctx, auth }) => {
  const tags = ['auth'];
  const limits = ctx.config.rateLimits;
  const secure = (request: FastifyRequest) => request.protocol === 'https' || ctx.config.publicUrl.startsWith('https:');
  const setCookie = (request: FastifyRequest, reply: FastifyReply, token: string) =>
    reply.header('set-cookie', serializeCookie(REFRESH_COOKIE, token, { path: SESSION_PATH, maxAgeSec: ctx.config.refreshTokenTtlSec, secure: secure(request) }));
  const clearCookie = (request: FastifyRequest, reply: FastifyReply) =>
    reply.header('set-cookie', serializeCookie(REFRESH_COOKIE, '', { path: SESSION_PATH, maxAgeSec: 0, secure: secure(request) }));
  const answer = (request: FastifyRequest, reply: FastifyReply, access: string, user: Parameters<typeof userView>[2]) => {
    reply.header('cache-control', 'no-store');
    return { access, expires_in: ctx.tokens.accessTtlSec, user: userView(ctx, request, user) };
  };

  app.post(SESSION_PATH, {
    config: { auth: false },
    onRequest: [requireRequestedWith, limitPerIp(ctx, 'login', limits.loginPerIpPerMin)],
    schema: {
      tags,
      summary: 'Log in from the web client: the refresh token goes into an HttpOnly cookie',
      description:
        CSRF_TEXT + COOKIE_TEXT +
        'The answer holds the access token, its lifetime and your own user (as GET /api/users/{id}/ shows it). ' +
        'The same checks, messages and limits as POST /api/auth/token/ (same 400 for wrong credentials and inactive accounts; attempts counted per account and address, ' +
        'per account from new addresses, and per address: RATE_LIMIT_LOGIN_FAILURES, RATE_LIMIT_LOGIN_ACCOUNT_CEILING, RATE_LIMIT_LOGIN_PER_IP), shared with it.',
      body: LoginBody,
      response: { 200: BrowserSession, ...errors(400, 403, 429) },
    },
  }, async (request, reply) => {
    const { pair, user } = await auth.loginUser(request.body.email, request.body.password, request.ip);
    setCookie(request, reply, pair.refresh);
    return answer(request, reply, pair.access, user);
  });

  app.post(`${SESSION_PATH}refresh/`, {
    config: { auth: false },
    onRequest: [requireRequestedWith, limitPerIp(ctx, 'refresh', limits.refreshPerIpPerMin)],
    preValidation: noBodyIsEmpty,
    schema: {
      tags,
      summary: "Renew the web client's access token from its cookie; the cookie rotates",
      description:
        CSRF_TEXT +
        'No body needed. A new access token and a rotated cookie. Missing, invalid, expired or revoked cookie → 401, and the cookie is cleared. ' +
        `Tabs of one browser share the cookie: the session's previous refresh token, presented at most ${REFRESH_REUSE_GRACE_MS / 1000} s after it was ` +
        'rotated (another tab refreshed at the same moment), gets 200 with a new access token of the same session and no Set-Cookie (the browser ' +
        'already holds the newer cookie). Any older token, or the previous one later than that, revokes the session (re-use detection) → 401. ' +
        'Limited as POST /api/auth/token/refresh/ (RATE_LIMIT_REFRESH_PER_IP, RATE_LIMIT_REFRESH_PER_ACCOUNT).',
      body: NoBody,
      response: { 200: BrowserSession, ...errors(400, 401, 403, 429) },
    },
  }, async (request, reply) => {
    try {
      const token = readCookies(request.headers.cookie, REFRESH_COOKIE)[0];
      if (!token) throw unauthorized('No session cookie.');
      const r = await auth.refreshBrowser(token);
      const user = await usersRepository.findActive(ctx.db, r.userId);
      if (!user) throw unauthorized('Token is invalid or expired.');
      if (r.refresh) setCookie(request, reply, r.refresh);
      return answer(request, reply, r.access, user);
    } catch (err) {
      if (err instanceof AppError && err.statusCode === 401) clearCookie(request, reply);
      throw err;
    }
  });

  app.post(`${SESSION_PATH}logout/`, {
    config: { auth: false },
    onRequest: requireRequestedWith,
    preValidation: noBodyIsEmpty,
    schema: {
      tags,
      summary: "End the web client's session and clear its cookie",
      description:
        CSRF_TEXT +
        "No body needed. Revokes the cookie's session at once (its access tokens stop working and its sockets close with 4401) and clears the cookie. " +
        'Without a cookie, or with an invalid one, still 204 (and cleared): logging out twice is harmless.',
      body: NoBody,
      response: { 204: Type.Null(), ...errors(400, 403) },
    },
  }, async (request, reply) => {
    const token = readCookies(request.headers.cookie, REFRESH_COOKIE)[0];
    if (token) await auth.logoutRefreshToken(token);
    clearCookie(request, reply);
    return reply.code(204).send(null);
  });
};
