// Argon2id (OWASP parameters: 19 MiB, t=2, p=1) on libuv's thread pool, never on the event
// loop; a semaphore keeps a login storm from taking every core from other requests.
import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { Semaphore } from './semaphore.js';

const ARGON2ID = 2; // Algorithm.Argon2id (a const enum, not importable under verbatimModuleSyntax)
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

// ~49,000 passwords from the zxcvbn-ts project's common-password dictionary.
const COMMON = new Set(dictionary['passwords-common']);

export class PasswordHasher {
  private readonly gate: Semaphore;
  private dummyHash: Promise<string> | null = null;

  constructor(concurrency: number) {
    this.gate = new Semaphore(concurrency);
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => hash(password, OPTIONS));
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    return this.gate.run(async () => {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    });
  }

  /** Spends the same time as a real check, so unknown emails cannot be told apart by timing. */
  async verifyNothing(password: string): Promise<false> {
    this.dummyHash ??= hash('not-a-real-password-0', OPTIONS);
    await this.verify(await this.dummyHash, password);
    return false;
  }
}

/** Django's validators: minimum length 8, not entirely numeric, not common, not like the user's names. */
export function passwordProblems(password: string, user: { username?: string; email?: string; first_name?: string; last_name?: string }): string[] {
  const problems: string[] = [];
  if ([...password].length < 8) problems.push('This password is too short. It must contain at least 8 characters.');
  if (/^\d+$/.test(password)) problems.push('This password is entirely numeric.');
  if (COMMON.has(password.toLowerCase().trim())) problems.push('This password is too common.');
  const lower = password.toLowerCase();
  const attrs = [user.username, user.email?.split('@')[0], user.first_name, user.last_name];
  if (attrs.some((a) => a && a.length >= 3 && (lower === a.toLowerCase() || (lower.includes(a.toLowerCase()) && a.length * 2 >= lower.length)))) {
    problems.push('The password is too similar to your account details.');
  }
  return problems;
}
