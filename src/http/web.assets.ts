// The built web client, read into memory once: index.html and every file under assets/, each
// with the precompressed siblings (`<file>.br`, `<file>.gz`) the build writes next to it. Only
// names in this map are ever served: no part of a request URL reaches the filesystem.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type Encoding = 'br' | 'gzip' | 'identity';

export interface WebFile {
  type: string;
  /** Strong validator of the content (its SHA-256), before any compression. */
  hash: string;
  bodies: Partial<Record<Encoding, Buffer>> & { identity: Buffer };
}

export interface WebClient {
  index: WebFile;
  /** Asset path below assets/ (e.g. `app-ABC123.js`, `fonts/x.woff2`) → its file. */
  assets: Map<string, WebFile>;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  json: 'application/json; charset=utf-8',
  webmanifest: 'application/manifest+json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  woff: 'font/woff',
  ttf: 'font/ttf',
  otf: 'font/otf',
  wasm: 'application/wasm',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
};

export const contentTypeOf = (name: string) => TYPES[path.extname(name).slice(1).toLowerCase()] ?? 'application/octet-stream';

const COMPRESSED = /\.(br|gz)$/;

function readFile(file: string, name: string): WebFile {
  const identity = fs.readFileSync(file);
  const sibling = (suffix: string) => (fs.existsSync(file + suffix) ? fs.readFileSync(file + suffix) : undefined);
  const bodies: WebFile['bodies'] = { identity };
  const br = sibling('.br');
  const gzip = sibling('.gz');
  if (br) bodies.br = br;
  if (gzip) bodies.gzip = gzip;
  return { type: contentTypeOf(name), hash: crypto.createHash('sha256').update(identity).digest('base64url').slice(0, 27), bodies };
}

function walk(dir: string, prefix: string, out: Map<string, WebFile>): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const name = prefix + entry.name;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file, `${name}/`, out);
    // Precompressed siblings are served in place of their original, never under their own names.
    else if (entry.isFile() && !COMPRESSED.test(entry.name)) out.set(name, readFile(file, entry.name));
  }
}

/** The client under `root`, or null when it has not been built (no index.html). */
export function loadWebClient(root: string): WebClient | null {
  const indexFile = path.join(root, 'index.html');
  if (!fs.existsSync(indexFile)) return null;
  const assets = new Map<string, WebFile>();
  const assetsDir = path.join(root, 'assets');
  if (fs.existsSync(assetsDir)) walk(assetsDir, '', assets);
  return { index: readFile(indexFile, 'index.html'), assets };
}

/** Quality of each coding named in an Accept-Encoding header (`*` included when sent). */
function qualities(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of header.split(',')) {
    const [coding, ...params] = item.trim().toLowerCase().split(';');
    if (!coding) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) q = Math.min(1, Number(m[1]) || 0);
    }
    out.set(coding.trim(), q);
  }
  return out;
}

/**
 * The body to send for Accept-Encoding: the acceptable coding (q > 0) we hold with the highest
 * quality, br before gzip on a tie; identity when neither is acceptable or available.
 */
export function negotiate(file: WebFile, acceptEncoding: string | undefined): { encoding: Encoding; body: Buffer } {
  if (acceptEncoding) {
    const q = qualities(acceptEncoding);
    const star = q.get('*') ?? 0;
    const br = file.bodies.br ? (q.get('br') ?? star) : 0;
    const gzip = file.bodies.gzip ? (q.get('gzip') ?? q.get('x-gzip') ?? star) : 0;
    if (br > 0 && br >= gzip) return { encoding: 'br', body: file.bodies.br! };
    if (gzip > 0) return { encoding: 'gzip', body: file.bodies.gzip! };
  }
  return { encoding: 'identity', body: file.bodies.identity };
}

/** A strong ETag per representation (the content hash, and the coding when compressed). */
export const etagOf = (file: WebFile, encoding: Encoding) => `"${file.hash}${encoding === 'identity' ? '' : `-${encoding}`}"`;

/** If-None-Match (weak comparison, as RFC 9110 asks for it) against any representation of `file`. */
export function notModified(file: WebFile, ifNoneMatch: string | undefined): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const ours = new Set((['identity', 'br', 'gzip'] as const).map((e) => etagOf(file, e)));
  return ifNoneMatch.split(',').some((tag) => ours.has(tag.trim().replace(/^W\//, '')));
}
