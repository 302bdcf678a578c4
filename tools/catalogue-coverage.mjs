#!/usr/bin/env node
// Which cases of the security catalogue the tests name, and which they do not.
//   node tools/catalogue-coverage.mjs [CATALOGUE.md] [--missing]
// CATALOGUE.md: default ../shared/security-catalogue.md beside the project root. Case IDs are
// the table rows' first cells (`| SSRF-001 | ...`). A test names a case by its ID anywhere under
// tests/ (titles, comments, table entries) or in a lint gate (tools/lint-leaks);
// `OAUTH-001/002/003` and `SSRF-134..136` name each.
// Prints one line per family (named / all) and, with --missing, the IDs no test names.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node tools/catalogue-coverage.mjs [CATALOGUE.md] [--missing]');
  process.exit(0);
}
const catalogue = args.find((a) => !a.startsWith('--')) || path.resolve(root, '..', 'shared', 'security-catalogue.md');
if (!fs.existsSync(catalogue)) {
  console.error(`catalogue-coverage: no catalogue at ${catalogue} (pass its path)`);
  process.exit(2);
}

const cases = [...fs.readFileSync(catalogue, 'utf8').matchAll(/^\|\s*([A-Z]+-\d{3})\s*\|/gm)].map((m) => m[1]);
const named = new Set();
const scan = (p) => {
  for (const m of fs.readFileSync(p, 'utf8').matchAll(/\b([A-Z]{2,6})-(\d{3}(?:\/\d{3})*)(?:\.\.(\d{3}))?/g)) {
    const nums = m[2].split('/');
    for (const n of nums) named.add(`${m[1]}-${n}`);
    if (m[3]) for (let i = Number(nums.at(-1)); i <= Number(m[3]); i++) named.add(`${m[1]}-${String(i).padStart(3, '0')}`);
  }
};
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(c|h|mjs|js|sh|yml|md)$/.test(e.name) || !e.name.includes('.')) scan(p);
  }
};
walk(path.join(root, 'tests'));
scan(path.join(root, 'tools', 'lint-leaks'));

const fams = new Map();
for (const id of cases) {
  const f = id.split('-')[0];
  if (!fams.has(f)) fams.set(f, { all: 0, named: 0, missing: [] });
  const r = fams.get(f);
  r.all++;
  if (named.has(id)) r.named++;
  else r.missing.push(id);
}
let all = 0, hit = 0;
for (const [f, r] of fams) {
  all += r.all;
  hit += r.named;
  console.log(`${f.padEnd(6)} ${String(r.named).padStart(3)} / ${r.all}`);
}
console.log(`all    ${String(hit).padStart(3)} / ${all} named by a test`);
if (args.includes('--missing')) {
  for (const [f, r] of fams) if (r.missing.length) console.log(`${f}: ${r.missing.join(' ')}`);
}
