import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { forbidden, unauthorized } from '../../errors.js';
import { usersRepository } from '../users/users.repository.js';

/**
 * An onRequest hook for staff-only routes, run after authentication and before the input is
 * validated (non-staff learn nothing about the routes). The account is read on every request, so a
 * demotion or a deactivation takes effect at once: a token outliving its account is 401, as elsewhere.
 */
export function requireStaff(ctx: AppContext) {
  return async (request: FastifyRequest): Promise<void> => {
    const me = await usersRepository.findActive(ctx.db, request.auth.userId);
    if (!me) throw unauthorized();
    if (me.is_staff !== 1) throw forbidden('Staff only.');
  };
}
