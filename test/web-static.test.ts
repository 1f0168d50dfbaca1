// The web client served from WEB_ROOT: a fixture build in a temp directory (index.html, one
// hashed asset with its .br and .gz siblings), read through the real routes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { loadConfig } from '../src/config.js';
import { createTestApp, createTestEnv, type TestApp } from './helpers.js';
import { startServer } from './process-helpers.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-ABC123.js"></script></head><body></body></html>\n';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(2000))});\n`;

function fixture(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-web-'));
  fs.mkdirSync(path.join(root, 'assets'));
  const write = (name: string, data: string | Buffer) => fs.writeFileSync(path.join(root, name), data);
  write('index.html', INDEX);
  write('index.html.br', zlib.brotliCompressSync(INDEX));
  write('index.html.gz', zlib.gzipSync(INDEX));
  write('assets/app-ABC123.js', SCRIPT);
  write('assets/app-ABC123.js.br', zlib.brotliCompressSync(SCRIPT));
  write('assets/app-ABC123.js.gz', zlib.gzipSync(SCRIPT));
  write('assets/style-DEF456.css', 'body{margin:0}');
  write('assets/logo-1.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>');
  write('assets/font-2.woff2', Buffer.from('wOF2fake'));
  write('secret.txt', 'outside assets/');
  return root;
}

const get = (t: TestApp, url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

describe('the web client', () => {
  let t: TestApp;
  let root: string;
  before(async () => {
    root = fixture();
    t = await createTestApp({ WEB_ROOT: root });
  });
  after(async () => {
    await t.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('defaults WEB_ROOT to dist/web of the package, wherever the config module is loaded from', () => {
    const pkgRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
    assert.equal(loadConfig({}).webRoot, path.join(pkgRoot, 'dist', 'web'));
    assert.equal(loadConfig({ WEB_ROOT: root }).webRoot, root);
  });

  it('serves index.html at / with no-cache, an ETag, a strict CSP and the security headers', async () => {
    const res = await get(t, '/', { host: 'chat.example.com:8443' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, INDEX);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(INDEX));
    assert.match(res.headers.etag as string, /^"[A-Za-z0-9_-]+"$/);
    assert.equal(
      res.headers['content-security-policy'],
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; font-src 'self'; " +
        "connect-src 'self' ws://chat.example.com:8443; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    const head = await t.app.inject({ method: 'HEAD', url: '/' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-type'], 'text/html; charset=utf-8');
  });

  it('names the socket origin from PUBLIC_URL, else from the request, and refuses a host that is not one', async () => {
    const csp = (res: { headers: Record<string, unknown> }) => /connect-src ([^;]*)/.exec(res.headers['content-security-policy'] as string)![1];
    assert.equal(csp(await get(t, '/', { host: '[::1]:8000' })), "'self' ws://[::1]:8000");
    // A Host that is not one never reaches the page (400: links and the CSP are built from it).
    for (const host of ['evil.com; script-src *', 'a b']) assert.equal((await get(t, '/', { host })).statusCode, 400, host);
    const pub = await createTestApp({ WEB_ROOT: root, PUBLIC_URL: 'https://chat.example.org' }, t.env);
    try {
      assert.equal(csp(await get(pub, '/', { host: 'other.example.com' })), "'self' wss://chat.example.org");
    } finally {
      await pub.close();
    }
    const proxied = await createTestApp({ WEB_ROOT: root, TRUST_PROXY: 'loopback' }, t.env);
    try {
      const res = await proxied.app.inject({ method: 'GET', url: '/', remoteAddress: '127.0.0.1', headers: { host: 'inner:8000', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'chat.example.net' } });
      assert.equal(csp(res), "'self' wss://chat.example.net");
    } finally {
      await proxied.close();
    }
  });

  it('answers If-None-Match with 304 and the same validators', async () => {
    const first = await get(t, '/');
    const again = await get(t, '/', { 'if-none-match': first.headers.etag as string });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers.etag, first.headers.etag);
    assert.equal(again.headers['cache-control'], 'no-cache');
    assert.equal(again.headers['x-content-type-options'], 'nosniff');
    assert.equal((await get(t, '/', { 'if-none-match': `W/${first.headers.etag}` })).statusCode, 304, 'weak comparison');
    assert.equal((await get(t, '/', { 'if-none-match': '"something-else"' })).statusCode, 200);
    const asset = await get(t, '/assets/app-ABC123.js', { 'accept-encoding': 'br' });
    assert.equal((await get(t, '/assets/app-ABC123.js', { 'if-none-match': asset.headers.etag as string })).statusCode, 304);
  });

  it('serves hashed assets with their type, immutable caching and the precompressed body the client accepts', async () => {
    const plain = await get(t, '/assets/app-ABC123.js');
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.body, SCRIPT);
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers['x-content-type-options'], 'nosniff');
    assert.equal(plain.headers['referrer-policy'], 'no-referrer');
    assert.equal(plain.headers['content-security-policy'], undefined, 'the CSP belongs to the page');

    const cases: Array<[string, string | undefined]> = [
      ['gzip, deflate, br, zstd', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['gzip;q=0.5, br;q=0.4', 'gzip'],
      ['br;q=0, gzip;q=0', undefined],
      ['*', 'br'],
      ['*;q=0.1, br;q=0', 'gzip'],
      ['identity', undefined],
      ['', undefined],
    ];
    for (const [accept, expected] of cases) {
      const res = await t.app.inject({ method: 'GET', url: '/assets/app-ABC123.js', headers: { 'accept-encoding': accept } });
      assert.equal(res.headers['content-encoding'], expected, accept);
      assert.equal(res.headers.vary, 'Accept-Encoding');
      assert.equal(Number(res.headers['content-length']), res.rawPayload.length, accept);
      const body = expected === 'br' ? zlib.brotliDecompressSync(res.rawPayload) : expected === 'gzip' ? zlib.gunzipSync(res.rawPayload) : res.rawPayload;
      assert.equal(body.toString(), SCRIPT, accept);
    }
    const index = await get(t, '/', { 'accept-encoding': 'gzip' });
    assert.equal(index.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(index.rawPayload).toString(), INDEX);

    const types: Array<[string, string]> = [
      ['style-DEF456.css', 'text/css; charset=utf-8'],
      ['logo-1.svg', 'image/svg+xml'],
      ['font-2.woff2', 'font/woff2'],
    ];
    for (const [name, type] of types) {
      const res = await get(t, `/assets/${name}`);
      assert.equal(res.statusCode, 200, name);
      assert.equal(res.headers['content-type'], type);
    }
  });

  it('serves only names the build wrote: 404 JSON for anything else, the compressed files and paths out of assets/', async () => {
    for (const url of [
      '/assets/nope.js',
      '/assets/app-ABC123.js.br',
      '/assets/app-ABC123.js.gz',
      '/assets/../index.html',
      '/assets/..%2Fsecret.txt',
      '/assets/%2e%2e/secret.txt',
      '/assets/',
      '/secret.txt',
      '/index.html.br',
    ]) {
      const res = await get(t, url);
      assert.equal(res.statusCode, 404, url);
      assert.deepEqual(res.json(), { detail: 'Not found.', code: 'not_found' }, url);
    }
    assert.equal((await get(t, '/healthz')).statusCode, 200, 'API routes are unaffected');
  });

  it('keeps these routes out of the OpenAPI document', async () => {
    const spec = (await get(t, '/openapi.json')).json();
    assert.equal(spec.paths['/'], undefined);
    assert.ok(!Object.keys(spec.paths).some((p) => p.startsWith('/assets')));
  });

  it('answers 503 JSON at / when the client is not built, and the API still works', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-web-empty-'));
    const bare = await createTestApp({ WEB_ROOT: empty }, t.env);
    try {
      const res = await get(bare, '/');
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { detail: 'The web client is not built: run npm run build.', code: 'web_client_missing' });
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal((await get(bare, '/assets/app-ABC123.js')).statusCode, 404);
      assert.equal((await get(bare, '/nowhere')).statusCode, 404);
      assert.equal((await get(bare, '/healthz')).statusCode, 200);
    } finally {
      await bare.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the web client from a running server', () => {
  it('logs one warning at start when the client is not built, and serves it over HTTP when it is', async () => {
    const env = await createTestEnv();
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-web-empty-'));
    const root = fixture();
    try {
      const bare = await startServer({ ...env.env, WEB_ROOT: empty });
      try {
        const warnings = bare.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('web client is not built'));
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0].level, 40);
        assert.equal((await fetch(`${bare.base}/`)).status, 503);
      } finally {
        bare.proc.kill('SIGTERM');
        await bare.exited;
      }
      const built = await startServer({ ...env.env, WEB_ROOT: root });
      try {
        assert.ok(!built.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('web client is not built')));
        // fetch decodes the answer.
        const res = await fetch(`${built.base}/assets/app-ABC123.js`, { headers: { 'accept-encoding': 'br, gzip' } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-encoding'), 'br');
        assert.equal(await res.text(), SCRIPT);
        const page = await fetch(`${built.base}/`);
        assert.match(page.headers.get('content-security-policy')!, new RegExp(`connect-src 'self' ws://${new URL(built.base).host.replace(/\./g, '\\.')};`));
        assert.equal(await page.text(), INDEX);
      } finally {
        built.proc.kill('SIGTERM');
        await built.exited;
      }
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
      fs.rmSync(root, { recursive: true, force: true });
      await env.cleanup();
    }
  });
});
