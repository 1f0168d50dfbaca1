import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { fieldError, notFound } from '../../errors.js';
import { limitPerIp } from '../../http/rate-limit-hook.js';
import { IdParams, Paginated, errors } from '../../http/schemas.js';
import { MULTIPART_OVERHEAD_BYTES, readAtMost, refuseDeclaredOver } from '../../http/too-large.js';
import { pageLinks } from '../../http/urls.js';
import { imageTooLarge } from '../../lib/images.js';
import { PAGE_SIZE, type UsersService } from './users.service.js';
import { ProfileBody, SignupBody, User, UserListQuery } from './users.schemas.js';
import { userView } from './users.view.js';
import { visibilityOf } from './users.visibility.js';

const IMAGE_MIME = { png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };
const FORMS = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'];

export const usersRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; users: UsersService }> = async (app, { ctx, users }) => {
  // Profile pictures arrive as multipart file fields; only in this scope, buffered (they are small and capped).
  const maxAvatar = ctx.config.avatarMaxBytes;
  // Text fields are short; the picture comes as the one file part. The parser lets one byte past the
  // limit through so that onFile sees the file pass it and answers 413 at once.
  const limits = { fileSize: maxAvatar + 1, files: 1, fields: 10, fieldSize: 8 * 1024 };
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits,
    async onFile(part) {
      (part as unknown as { value: Buffer }).value = await readAtMost(part.file, maxAvatar, () => imageTooLarge(part.fieldname, maxAvatar));
    },
  });
  /** The largest multipart body a picture within the limit can make (picture, text fields, framing): 413 at once beyond. */
  const maxMultipartBytes = maxAvatar + limits.fields * limits.fieldSize + MULTIPART_OVERHEAD_BYTES;
  const refuseOversize = refuseDeclaredOver(maxMultipartBytes, () => imageTooLarge('profile_picture', maxAvatar));
  const AVATAR_413 =
    'A picture over AVATAR_MAX_BYTES → 413 `{"profile_picture": ["…"]}`, sent as soon as that is known (from Content-Length when a multipart body is ' +
    'larger than the picture limit plus the form\'s allowance, else when the file passes the limit); the rest of the body is read and dropped ' +
    '(bounded) before the connection closes, so the client receives the 413.';
  const tags = ['users'];
  const SEEN =
    '`email` shows to the account itself and to staff only; `status` and `last_seen` also to people who share a room with it ' +
    '(they get its live presence anyway). Hidden fields are null.';

  app.post('/api/users/', {
    config: { auth: false, maxBodyBytes: maxMultipartBytes },
    onRequest: [limitPerIp(ctx, 'signup', ctx.config.rateLimits.signupPerIpPerMin), refuseOversize],
    schema: { tags, summary: 'Sign up', description: AVATAR_413, consumes: FORMS, body: SignupBody, response: { 201: User, ...errors(400, 413, 429) } },
  }, async (request, reply) => {
    const user = await users.signup(request.body);
    return reply.code(201).send(userView(ctx, request, user));
  });

  app.get('/api/users/', {
    schema: { tags, summary: 'List users (20 a page); search matches username, name or email', description: `${SEEN} \`search\` finds a part of a username or name, and an email only whole (case-insensitive), so addresses cannot be read off the search.`, querystring: UserListQuery, response: { 200: Paginated(User), ...errors(400, 401) } },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const { count, rows } = await users.list(request.query.search, page);
    const seen = await visibilityOf(ctx.db, request.auth.userId, rows.map((u) => u.id));
    return { count, ...pageLinks(request, ctx.config, page, PAGE_SIZE, count), results: rows.map((u) => userView(ctx, request, u, seen(u.id))) };
  });

  app.get('/api/users/:id/', {
    schema: { tags, summary: 'Retrieve a user', description: SEEN, params: IdParams, response: { 200: User, ...errors(401, 404) } },
  }, async (request) => {
    const user = await users.get(request.params.id);
    return userView(ctx, request, user, (await visibilityOf(ctx.db, request.auth.userId, [user.id]))(user.id));
  });

  const update = {
    config: { maxBodyBytes: maxMultipartBytes },
    onRequest: refuseOversize,
    schema: { tags, summary: 'Update your own profile (PUT behaves as PATCH)', description: AVATAR_413, consumes: FORMS, params: IdParams, body: ProfileBody, response: { 200: User, ...errors(400, 401, 403, 404, 413) } },
  };
  const updateHandler = async (request: { auth: { userId: number }; params: { id: number }; body: Record<string, unknown> }) => {
    if (request.body.password !== undefined) throw fieldError('password', 'Use POST /api/auth/password/ to change the password.');
    return users.update(request.auth.userId, request.params.id, request.body);
  };
  app.patch('/api/users/:id/', update, async (request) => userView(ctx, request, await updateHandler(request)));
  app.put('/api/users/:id/', update, async (request) => userView(ctx, request, await updateHandler(request)));

  app.delete('/api/users/:id/', {
    schema: { tags, summary: 'Delete your own account; its tokens stop working at once', params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
  }, async (request, reply) => {
    await users.deactivate(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });

  // Avatars are public by their unguessable names: <img> tags cannot send a bearer token.
  app.get('/media/avatars/:name', {
    config: { auth: false },
    schema: { tags, summary: 'A profile picture', params: Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}\\.(png|jpg|gif|webp)$' }) }), response: { ...errors(404) } },
  }, async (request, reply) => {
    const key = `avatars/${request.params.name}`;
    const size = await ctx.store.size(key);
    if (size === null) throw notFound();
    const ext = request.params.name.split('.').pop() as keyof typeof IMAGE_MIME;
    return reply
      .header('content-type', IMAGE_MIME[ext])
      .header('content-length', size)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(ctx.store.read(key));
  });
};
