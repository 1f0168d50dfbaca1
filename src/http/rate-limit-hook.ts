import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { enforceLimit } from '../lib/rate-limit.js';

/**
 * A preHandler allowing `perMinute` requests per client address for one named action (0 = no
 * limit). Its counters live under `ip:`, apart from the per-account ones (`login:<email>`…), so
 * no request body can name a key that an address's counter uses.
 */
export function limitPerIp(ctx: AppContext, action: string, perMinute: number) {
  return async (request: FastifyRequest) => {
    await enforceLimit(ctx.limiter, `ip:${action}:${request.ip}`, perMinute, 60);
  };
}
