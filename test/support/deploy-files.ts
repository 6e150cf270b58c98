/**
 * What the tests of the deploy files (systemd units, docker-compose.yml, deploy/k8s) share: a unit
 * file's parser, durations, the image's runtime settings as the Dockerfile declares them, and the
 * names Vigil reads, so each file is checked against the code rather than against a copy of it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ALWAYS_PASSED_ENV, envRefs } from '../../src/actions/runner-config.ts';
import { CLI_TOOLS, type CliTool } from '../../src/cli/tools.ts';
import { envSchema } from '../../src/config/env.ts';
import type { Config } from '../../src/config/load.ts';
import { REPO_ROOT } from './run-process.ts';

export const readRepoFile = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

/** Every environment variable Vigil reads (src/config/env.ts). */
export const VIGIL_ENV: readonly string[] = Object.keys(envSchema.shape);

/** Names the runner's environment never has: Slack's (secrets and settings alike) and the webhook's token. */
export const SLACK_OR_WEBHOOK = /^(SLACK_\w+|ALERT_WEBHOOK_TOKEN)$/;

/** A unit file's settings by section; a key set twice keeps every value. */
export function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> = {};
  for (const line of text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) sections[section[1] ?? ''] = current = {};
    else {
      const eq = line.indexOf('=');
      (current[line.slice(0, eq).trim()] ??= []).push(line.slice(eq + 1).trim());
    }
  }
  return sections;
}

/** `30s`, `30`, `1m`, `500ms` in seconds (systemd's and compose's durations). */
export function seconds(duration: string): number {
  const m = /^(\d+)(ms|s|m|min)?$/.exec(duration.trim());
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, min: 60 }[m[2] ?? 's'] ?? 1);
}

/** The environment variables a configuration's actions read: exec `env:` lists, `${env:NAME}` in http headers. */
export function actionEnvNames(config: Config): string[] {
  const names = new Set<string>();
  for (const action of Object.values(config.file.actions?.catalog ?? {})) {
    const runner = action.runner;
    if (runner.kind === 'exec') for (const name of runner.envAllow) if (!(ALWAYS_PASSED_ENV as readonly string[]).includes(name)) names.add(name);
    if (runner.kind === 'http') for (const value of Object.values(runner.headers)) for (const name of envRefs(value)) names.add(name);
  }
  return [...names].sort();
}

/** The CLI tool that the words after the script select (`['runner']`: `vigil runner`), as the CLI routes them. */
export function cliToolOf(words: readonly string[]): CliTool | undefined {
  return CLI_TOOLS.find((tool) => tool.words.length === words.length && tool.words.every((w, i) => w === words[i]));
}

/**
 * Whether `script` (as an image or unit names it, relative to `workdir` or absolute under an
 * install root) is the compiled CLI: dist/src/cli.js, compiled from src/cli.ts.
 */
export function isCompiledCli(script: string, workdir: string): boolean {
  const path = posix.isAbsolute(script) ? script : posix.join(workdir, script);
  const m = /\/dist\/(src\/.+)\.js$/.exec(path);
  return m?.[1] === 'src/cli' && existsSync(join(REPO_ROOT, `${m[1]}.ts`));
}

/** The runtime stage (the last FROM) of the Dockerfile: its USER, WORKDIR and ENV. */
export function imageRuntime(dockerfile = readRepoFile('Dockerfile')): { uid: number; gid: number; workdir: string; env: Record<string, string> } {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim());
  const last = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const stage = lines.slice(last).filter((l) => l && !l.startsWith('#'));
  const out = { uid: 0, gid: 0, workdir: '/', env: {} as Record<string, string> };
  for (const line of stage) {
    const [, keyword = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (keyword === 'USER') {
      const [uid = '', gid = uid] = args.split(':');
      if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) throw new Error(`USER ${args}: expected numeric uid:gid`);
      Object.assign(out, { uid: Number(uid), gid: Number(gid) });
    }
    if (keyword === 'WORKDIR') out.workdir = posix.resolve(out.workdir, args);
    if (keyword === 'ENV') for (const [, k = '', v = ''] of args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) out.env[k] = v.replace(/^"|"$/g, '');
  }
  return out;
}
