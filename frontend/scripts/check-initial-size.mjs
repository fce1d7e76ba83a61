// Fails when the initial JavaScript of the production build passes the budget:
// 500 kB raw (also enforced by angular.json) and 150 kB compressed (gzip, which Angular's
// budgets cannot measure). Initial files are the scripts and module preloads of index.html.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? 'dist/portico/browser';
const RAW_LIMIT = 500 * 1000;
const GZIP_LIMIT = 150 * 1000;

const html = readFileSync(join(dir, 'index.html'), 'utf8');
const files = new Set();
for (const m of html.matchAll(/<script[^>]*\ssrc="([^"]+\.js)"/g)) files.add(m[1]);
for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) files.add(m[1]);
if (files.size === 0) {
  console.error(`check-initial-size: no scripts found in ${dir}/index.html`);
  process.exit(1);
}
let raw = 0;
let gz = 0;
for (const f of files) {
  const bytes = readFileSync(join(dir, f));
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
console.log(`initial JavaScript: ${files.size} files, ${kb(raw)} raw, ${kb(gz)} gzip (limits ${kb(RAW_LIMIT)} / ${kb(GZIP_LIMIT)})`);
if (raw > RAW_LIMIT || gz > GZIP_LIMIT) {
  console.error('check-initial-size: initial JavaScript over budget');
  process.exit(1);
}
