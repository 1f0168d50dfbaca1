// Seed-0 account routes, as thin adapters over the same services.
import crypto from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import { limitPerIp } from '../http/rate-limit-hook.js';
import { errors } from '../http/schemas.js';
import type { AuthService } from '../modules/auth/auth.service.js';
import { LoginBody } from '../modules/auth/auth.schemas.js';
import { usersRepository } from '../modules/users/users.repository.js';
import { Email, Password, User } from '../modules/users/users.schemas.js';
import type { UsersService } from '../modules/users/users.service.js';
import { userView } from '../modules/users/users.view.js';

const SignupBody = Type.Object({
  email: Email,
  password: Password,
  fname: Type.Optional(Type.String({ maxLength: 150 })),
  lname: Type.Optional(Type.String({ maxLength: 150 })),
  profile: Type.Optional(Type.Unknown({ description: 'A `data:image/...;base64,` string; any other string (the seed took a file name) is ignored' })),
});

const Tokens = Type.Object({ message: Type.String(), access: Type.String(), refresh: Type.String() });

/** Seed-0 accounts have no username: derive a free one from the email's local part. */
async function freeUsername(ctx: AppContext, email: string): Promise<string> {
  const base = (email.split('@')[0].replace(/[^\w.@+-]/g, '') || 'user').slice(0, 140);
  for (let attempt = 0; attempt < 5; attempt++) {
    const candidate = attempt === 0 ? base : `${base}${crypto.randomInt(1000, 999_999)}`;
    if (!(await usersRepository.taken(ctx.db, { username: candidate })).username) return candidate;
  }
  return `${base}${crypto.randomBytes(6).toString('hex')}`;
}

export const userauthRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; users: UsersService; auth: AuthService }> = async (app, { ctx, users, auth }) => {
  const tags = ['seed-0'];
  app.post('/userauth/userSignup', {
    config: { auth: false },
    onRequest: limitPerIp(ctx, 'signup', ctx.config.rateLimits.signupPerIpPerMin),
    schema: { tags, summary: 'Sign up (seed 0) and receive tokens', body: SignupBody, response: { 201: Type.Intersect([Tokens, Type.Object({ user: User })]), ...errors(400, 413, 429) } },
  }, async (request, reply) => {
    const { email, password, fname, lname, profile } = request.body;
    const picture = typeof profile === 'string' && profile.startsWith('data:') ? profile : undefined;
    const user = await users.signup({ username: await freeUsername(ctx, email), email, password, first_name: fname, last_name: lname, profile_picture: picture });
    const tokens = await auth.startSession(user.id);
    return reply.code(201).send({ message: 'User created successfully.', ...tokens, user: userView(ctx, request, user) });
  });

  app.post('/userauth/userLogin', {
    config: { auth: false },
    onRequest: limitPerIp(ctx, 'login', ctx.config.rateLimits.loginPerIpPerMin),
    schema: {
      tags,
      summary: 'Log in (seed 0)',
      description: 'The same checks and limits as POST /api/auth/token/, shared with it (RATE_LIMIT_LOGIN_FAILURES, RATE_LIMIT_LOGIN_ACCOUNT_CEILING, RATE_LIMIT_LOGIN_PER_IP).',
      body: LoginBody,
      response: { 200: Tokens, ...errors(400, 429) },
    },
  }, async (request) => ({ message: 'Login successful.', ...(await auth.login(request.body.email, request.body.password, request.ip)) }));
};
