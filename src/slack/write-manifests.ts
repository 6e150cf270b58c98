import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allCommands } from '../../commands/index.ts';
import { MANIFEST_PATHS, manifestFile, type ManifestMode } from './manifest.ts';

// `npm run manifest`: regenerate the Slack app manifests from the command registry.
const root = resolve(import.meta.dirname, '../..');
for (const mode of Object.keys(MANIFEST_PATHS) as ManifestMode[]) {
  const path = resolve(root, MANIFEST_PATHS[mode]);
  writeFileSync(path, manifestFile(allCommands, mode));
  process.stdout.write(`wrote ${MANIFEST_PATHS[mode]}\n`);
}
