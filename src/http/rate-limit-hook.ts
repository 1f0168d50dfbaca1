import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { tooManyRequests } from '../errors.js';

/** A preHandler allowing `perMinute` requests per client address for one named action (0 = no limit). */
export function limitPerIp(ctx: AppContext, action: string, perMinute: number) {
  return async (request: FastifyRequest) => {
    if (perMinute <= 0) return;
    const verdict = await ctx.limiter.consume(`${action}:${request.ip}`, perMinute, 60);
    if (!verdict.ok) throw tooManyRequests(verdict.retryAfterSec);
  };
}
