import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { limitPerIp } from '../../http/rate-limit-hook.js';
import { errors } from '../../http/schemas.js';
import type { AuthService } from './auth.service.js';
import { LoginBody, PasswordChangeBody, RefreshBody, TokenPair } from './auth.schemas.js';

export const authRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; auth: AuthService }> = async (app, { ctx, auth }) => {
  const tags = ['auth'];
  const limits = ctx.config.rateLimits;

  app.post('/api/auth/token/', {
    config: { auth: false },
    onRequest: limitPerIp(ctx, 'login', limits.loginPerIpPerMin),
    schema: {
      tags,
      summary: 'Log in with email and password',
      description:
        'Wrong credentials and inactive accounts get the same 400. Attempts are counted before the check (429 with Retry-After beyond a limit): ' +
        'per account from one client address, an IPv6 /64 being one address (RATE_LIMIT_LOGIN_FAILURES, default 10, per RATE_LIMIT_LOGIN_FAILURE_WINDOW seconds, default 900; ' +
        'cleared by a successful login from that address), so a stranger guessing locks out only their own address; per account from addresses it has not ' +
        'logged in from within REFRESH_TOKEN_TTL, all together (RATE_LIMIT_LOGIN_ACCOUNT_CEILING, default 100, per the same window), so a guess spread over ' +
        'many addresses hits a wall while the owner still logs in where they did before; and per address (RATE_LIMIT_LOGIN_PER_IP a minute).',
      body: LoginBody,
      response: { 200: TokenPair, ...errors(400, 429) },
    },
  }, async (request) => auth.login(request.body.email, request.body.password, request.ip));

  app.post('/api/auth/token/refresh/', {
    config: { auth: false },
    onRequest: limitPerIp(ctx, 'refresh', limits.refreshPerIpPerMin),
    schema: {
      tags,
      summary: 'Rotate a refresh token',
      description: 'Returns a new pair; the presented refresh token stops working. Presenting an already-rotated token revokes the whole session. Limited per address (RATE_LIMIT_REFRESH_PER_IP) and per account (RATE_LIMIT_REFRESH_PER_ACCOUNT).',
      body: RefreshBody,
      response: { 200: TokenPair, ...errors(400, 401, 429) },
    },
  }, async (request) => auth.refresh(request.body.refresh));

  app.post('/api/auth/logout/', {
    schema: { tags, summary: "End this token's session: its access and refresh tokens stop working at once", response: { 204: Type.Null(), ...errors(401) } },
  }, async (request, reply) => {
    await auth.logout(request.auth);
    return reply.code(204).send(null);
  });

  app.post('/api/auth/password/', {
    schema: { tags, summary: "Change your password; every other session is revoked", body: PasswordChangeBody, response: { 204: Type.Null(), ...errors(400, 401) } },
  }, async (request, reply) => {
    await auth.changePassword(request.auth, request.body.old_password, request.body.new_password);
    return reply.code(204).send(null);
  });
};
