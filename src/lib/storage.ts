// Where uploaded files live. Keys are chosen by the server (random, no client path ever
// reaches the filesystem); the interface is small so an S3-compatible store can replace it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface FileStore {
  put(key: string, data: Buffer | Readable): Promise<number>;
  read(key: string, range?: { start: number; end: number }): Readable;
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /**
   * The keys in `folder` last written before `before` (ms since the epoch), and removes the
   * leftovers of writes that never finished (a process killed mid-upload) from before it.
   */
  stale(folder: string, before: number): Promise<string[]>;
}

const KEY = /^[a-z]+\/[A-Za-z0-9_-]{16,64}\.[a-z0-9]{1,8}$/;

export function newKey(folder: string, ext: string): string {
  return `${folder}/${crypto.randomBytes(18).toString('base64url')}.${ext}`;
}

export class LocalFileStore implements FileStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error('invalid storage key');
    return path.join(this.root, key);
  }

  async put(key: string, data: Buffer | Readable): Promise<number> {
    const file = this.pathOf(key);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      if (Buffer.isBuffer(data)) await fsp.writeFile(tmp, data, { flag: 'wx' });
      else await pipeline(data, fs.createWriteStream(tmp, { flags: 'wx' }));
      await fsp.rename(tmp, file);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return (await fsp.stat(file)).size;
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return fs.createReadStream(this.pathOf(key), range);
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await fsp.stat(this.pathOf(key))).size;
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.pathOf(key), { force: true });
  }

  async stale(folder: string, before: number): Promise<string[]> {
    const dir = path.join(this.root, folder);
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return [];
    }
    const keys: string[] = [];
    for (const name of names) {
      const stat = await fsp.stat(path.join(dir, name)).catch(() => null);
      if (!stat?.isFile() || stat.mtimeMs >= before) continue;
      if (name.endsWith('.tmp')) await fsp.rm(path.join(dir, name), { force: true });
      else if (KEY.test(`${folder}/${name}`)) keys.push(`${folder}/${name}`);
    }
    return keys;
  }
}
