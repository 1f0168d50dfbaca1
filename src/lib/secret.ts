// The JWT signing secret: JWT_SECRET when set, else one generated on first start and kept
// in DATA_DIR (mode 0600), so tokens survive restarts. There is no built-in default.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function loadSigningSecret(configured: string | null, dataDir: string): Uint8Array {
  if (configured) return new TextEncoder().encode(configured);
  const file = path.join(dataDir, 'jwt-secret');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists: two instances starting together keep one secret.
    fs.writeFileSync(file, crypto.randomBytes(48).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${file} holds a secret shorter than 32 characters`);
  return new TextEncoder().encode(secret);
}
