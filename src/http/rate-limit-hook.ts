import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { enforceLimit } from '../lib/rate-limit.js';

/** A preHandler allowing `perMinute` requests per client address for one named action (0 = no limit). */
export function limitPerIp(ctx: AppContext, action: string, perMinute: number) {
  return async (request: FastifyRequest) => {
    await enforceLimit(ctx.limiter, `${action}:${request.ip}`, perMinute, 60);
  };
}
