// `createsuperuser` (src/cli/admin.ts): a new staff account, validated as sign-up validates one,
// or an existing account made staff.
import { Value } from 'typebox/value';
import { nowIso } from '../../context.js';
import { isUniqueViolation } from '../../db/dialect.js';
import type { Db, UserRow } from '../../db/schema.js';
import { passwordProblems, type PasswordHasher } from '../../lib/passwords.js';
import { usersRepository } from '../users/users.repository.js';
import { Email, Password, Username } from '../users/users.schemas.js';

/** A refusal to show the operator as it is (never contains the password). */
export class SuperuserError extends Error {}

export interface SuperuserRequest {
  username: string;
  email: string;
}

export type SuperuserOutcome = { outcome: 'created' | 'promoted' | 'already_staff'; user: UserRow };

/** What is wrong with the username and email, as sign-up's schema would refuse them; [] when nothing. */
export function identityProblems(r: SuperuserRequest): string[] {
  const problems: string[] = [];
  if (!Value.Check(Username, r.username)) problems.push('Username: 1 to 150 characters, letters, digits and @ . + - _ only.');
  if (!Value.Check(Email, r.email)) problems.push('Email: not a valid email address (at most 254 characters).');
  return problems;
}

/** What is wrong with the password for this account, by sign-up's rules; [] when nothing. */
export function newPasswordProblems(r: SuperuserRequest, password: string): string[] {
  if (!Value.Check(Password, password)) return ['The password must be 1 to 256 characters.'];
  return passwordProblems(password, r);
}

/**
 * Makes the account with this username or email staff (its password untouched, `password` not
 * called), or when there is none, creates a staff account with the password `password` gives.
 */
export async function createSuperuser(
  deps: { db: Db; hasher: PasswordHasher },
  r: SuperuserRequest,
  password: () => Promise<string>,
): Promise<SuperuserOutcome> {
  const existing = await usersRepository.findByUsernameOrEmail(deps.db, r);
  if (existing.length > 1) {
    const [a, b] = existing;
    throw new SuperuserError(
      `The username and the email belong to two different accounts (${a.username} <${a.email}>, id ${a.id}, and ${b.username} <${b.email}>, id ${b.id}); give the username and email of one of them.`,
    );
  }
  if (existing.length === 1) {
    const found = existing[0];
    if (found.is_staff === 1) return { outcome: 'already_staff', user: found };
    const promoted = await usersRepository.makeStaff(deps.db, found.id);
    if (!promoted) throw new SuperuserError(`The account ${found.username} (id ${found.id}) was deleted meanwhile.`);
    return { outcome: 'promoted', user: promoted };
  }

  const identity = identityProblems(r);
  if (identity.length) throw new SuperuserError(identity.join('\n'));
  const secret = await password();
  const problems = newPasswordProblems(r, secret);
  if (problems.length) throw new SuperuserError(problems.map((p) => `Password: ${p}`).join('\n'));
  const passwordHash = await deps.hasher.hash(secret);
  try {
    const user = await deps.db.transaction().execute(async (trx) => {
      const row = await usersRepository.insert(trx, {
        username: r.username,
        email: r.email.trim(),
        password_hash: passwordHash,
        first_name: '',
        last_name: '',
        bio: '',
        profile_picture: null,
        date_joined: nowIso(),
      });
      return (await usersRepository.makeStaff(trx, row.id))!;
    });
    return { outcome: 'created', user };
  } catch (err) {
    if (isUniqueViolation(err)) throw new SuperuserError('An account with that username or email was created meanwhile; run the command again to make it staff.');
    throw err;
  }
}
