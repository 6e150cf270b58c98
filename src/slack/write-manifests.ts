import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allCommands } from '../../commands/index.ts';
import { runManifestCli } from './manifest-cli.ts';

// `npm run manifest [-- --url https://… | --mode socket] [--config f] [--out f]`: see manifest-cli.ts.
process.exitCode = runManifestCli(process.argv.slice(2), {
  commands: allCommands,
  repoRoot: resolve(import.meta.dirname, '../..'),
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  writeFile: (path, text) => writeFileSync(path, text),
});
