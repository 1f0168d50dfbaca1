import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import { ping } from '../db/dialect.js';

const Status = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.String())) });

export const healthRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const tags = ['health'];
  app.get('/healthz', { config: { auth: false }, schema: { tags, summary: 'Liveness: 200 once serving', response: { 200: Status } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    config: { auth: false },
    schema: { tags, summary: 'Readiness: the database (and Redis when configured) answer', response: { 200: Status, 503: Status } },
  }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    const probe = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
        checks[name] = 'ok';
      } catch {
        checks[name] = 'unavailable';
      }
    };
    await Promise.all([probe('database', () => ping(ctx.db)), ctx.config.redisUrl ? probe('redis', () => ctx.bus.ping()) : null]);
    const ok = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
};
