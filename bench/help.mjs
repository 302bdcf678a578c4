// --help for the bench scripts: prints the script's opening comment and exits.
import fs from 'node:fs';

export function helpFromHeader(moduleUrl) {
  if (!process.argv.slice(2).some((a) => a === '--help' || a === '-h')) return;
  for (const line of fs.readFileSync(new URL(moduleUrl), 'utf8').split('\n')) {
    if (!line.startsWith('//')) break;
    console.log(line.replace(/^\/\/ ?/, ''));
  }
  process.exit(0);
}
