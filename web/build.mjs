#!/usr/bin/env node
// Builds the web client into dist/web: index.html, content-hashed assets (cached immutably by
// the server), a .br and .gz beside each, and a size report (printed, and in build-report.json)
// against the budget: first-page JavaScript at most 100 KB gzipped. Code loaded on demand (the
// end-to-end encryption engine) is split into chunks of its own, which the first page does not load.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '../dist/web');
const assets = path.join(out, 'assets');
const BUDGET_JS_GZIP = 100 * 1024;

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(assets, { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: path.join(here, 'ui/main.tsx') },
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: 'linked',
  target: ['chrome100', 'firefox100', 'safari15', 'edge100'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  outdir: assets,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  tsconfig: path.join(here, 'tsconfig.json'),
});

const outputs = Object.keys(result.metafile.outputs).map((p) => path.resolve(p));
const pick = (ext) => path.basename(outputs.find((p) => p.endsWith(ext) && !p.endsWith('.map') && path.basename(p).startsWith('app-')));

// The first page loads the entry and what it imports statically; dynamic imports come later.
const entryOut = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint && o.entryPoint.endsWith('main.tsx'))[0];
const firstPage = new Set();
const visit = (p) => {
  if (firstPage.has(p)) return;
  firstPage.add(p);
  for (const i of result.metafile.outputs[p].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
};
visit(entryOut);
const firstPageNames = new Set([...firstPage].map((p) => path.relative(out, path.resolve(p))));

function hashed(src, name, ext) {
  const bytes = fs.readFileSync(src);
  const file = `${name}-${crypto.createHash('sha256').update(bytes).digest('base64url').slice(0, 10)}${ext}`;
  fs.writeFileSync(path.join(assets, file), bytes);
  return file;
}
const icon = hashed(path.join(here, 'ui/icon.svg'), 'icon', '.svg');

const html = fs
  .readFileSync(path.join(here, 'index.html'), 'utf8')
  .replace('{{js}}', `/assets/${pick('.js')}`)
  .replace('{{css}}', `/assets/${pick('.css')}`)
  .replace('{{icon}}', `/assets/${icon}`);
fs.writeFileSync(path.join(out, 'index.html'), html);

// Precompressed siblings: the server sends them as they are (no compression per request).
const files = [path.join(out, 'index.html'), ...fs.readdirSync(assets).map((f) => path.join(assets, f))];
const rows = [];
for (const file of files) {
  const bytes = fs.readFileSync(file);
  const gz = zlib.gzipSync(bytes, { level: 9 });
  const br = zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
  fs.writeFileSync(`${file}.gz`, gz);
  fs.writeFileSync(`${file}.br`, br);
  rows.push({ file: path.relative(out, file), bytes: bytes.length, gzip: gz.length, brotli: br.length });
}

const firstPageJs = rows.filter((r) => firstPageNames.has(r.file)).reduce((n, r) => n + r.gzip, 0);
const laterJs = rows.filter((r) => r.file.endsWith('.js') && !firstPageNames.has(r.file)).reduce((n, r) => n + r.gzip, 0);
const report = { files: rows, first_page_js_gzip: firstPageJs, later_js_gzip: laterJs, budget_js_gzip: BUDGET_JS_GZIP, within_budget: firstPageJs <= BUDGET_JS_GZIP };
fs.writeFileSync(path.join(out, 'build-report.json'), JSON.stringify(report, null, 2));

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
if (!process.argv.includes('--quiet')) {
  process.stdout.write('web client build (dist/web):\n');
  for (const r of rows) process.stdout.write(`  ${r.file.padEnd(36)} ${kb(r.bytes).padStart(10)} ${kb(r.gzip).padStart(10)} gzip ${kb(r.brotli).padStart(10)} br\n`);
  process.stdout.write(`  first-page JavaScript: ${kb(firstPageJs)} gzipped (budget ${kb(BUDGET_JS_GZIP)}): ${report.within_budget ? 'within budget' : 'OVER BUDGET'}\n`);
  process.stdout.write(`  loaded on demand (end-to-end encryption): ${kb(laterJs)} gzipped\n`);
}
