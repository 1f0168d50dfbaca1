import type { Db, UserRow } from '../../db/schema.js';
import { unauthorized } from '../../errors.js';
import { usersRepository } from './users.repository.js';

/** The caller's own account, which must still be active: a token outliving its account is 401. */
export async function callerAccount(db: Db, userId: number): Promise<UserRow> {
  const user = await usersRepository.findActive(db, userId);
  if (!user) throw unauthorized();
  return user;
}
