import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { dropEmpty, envSchema, type Env } from './env.ts';
import { fileSchema, type FileConfig } from './file.ts';

export type SlackMode =
  | { kind: 'http'; botToken: string; signingSecret: string }
  | { kind: 'socket'; botToken: string; appToken: string }
  | { kind: 'none' };

export interface Config {
  env: Env;
  file: FileConfig;
  /** Where the YAML came from, or that built-in defaults are used. */
  fileSource: string;
  slack: SlackMode;
  slackApiUrl: string | undefined;
  /** Local state (embedded Postgres and Redis data). */
  dataDir: string;
  cwd: string;
  /** PATH, for finding redis-server on a fresh machine. */
  pathEnv: string;
  /** The whole environment, read only by action runners for the names an action allow-lists. */
  processEnv: Readonly<Record<string, string | undefined>>;
}

/** Every problem found, one per line, naming keys but never values. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_PATH = 'manifests/vigil.yaml';

/**
 * Parse env and the YAML file once, at start, and fail listing every problem. The only place in
 * Vigil that reads `process.env`; everything else receives the Config.
 */
export function loadConfig(rawEnv: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const envResult = envSchema.safeParse(dropEmpty(rawEnv));
  if (!envResult.success) problems.push(...describe(envResult.error, 'env '));

  const requested = rawEnv.VIGIL_CONFIG || undefined;
  const path = resolve(cwd, requested ?? DEFAULT_CONFIG_PATH);
  let fileSource = path;
  let raw: unknown = {};
  if (existsSync(path)) {
    try {
      raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
    } catch (err) {
      problems.push(`${path}: not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
  } else if (requested) {
    problems.push(`VIGIL_CONFIG: file not found: ${path}`);
  } else {
    fileSource = 'built-in defaults (no manifests/vigil.yaml; see manifests/vigil.example.yaml)';
  }
  const fileResult = fileSchema.safeParse(raw);
  if (!fileResult.success) problems.push(...describe(fileResult.error, `${path}: `));

  const env = envResult.data;
  const slack = env ? slackMode(env, problems) : { kind: 'none' as const };
  if (problems.length > 0 || !env || !fileResult.success) throw new ConfigError(problems);

  return {
    env,
    file: fileResult.data,
    fileSource,
    slack,
    // The Web API client joins method names onto this base, so it must end in a slash.
    slackApiUrl: env.SLACK_API_URL && !env.SLACK_API_URL.endsWith('/') ? `${env.SLACK_API_URL}/` : env.SLACK_API_URL,
    dataDir: resolve(cwd, '.vigil'),
    cwd,
    pathEnv: rawEnv.PATH ?? '',
    processEnv: rawEnv,
  };
}

/** Which Slack front door the tokens ask for; an incomplete set is an error, not a silent shell. */
function slackMode(env: Env, problems: string[]): SlackMode {
  const { SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_APP_TOKEN: appToken } = env;
  if (!botToken && !signingSecret && !appToken) return { kind: 'none' };
  if (!botToken) {
    problems.push('env SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set');
    return { kind: 'none' };
  }
  if (appToken) return { kind: 'socket', botToken, appToken };
  if (signingSecret) return { kind: 'http', botToken, signingSecret };
  problems.push('env SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode): one is required with SLACK_BOT_TOKEN');
  return { kind: 'none' };
}

function describe(error: z.ZodError, prefix: string): string[] {
  return error.issues.map((issue) => `${prefix}${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/** For entry points: the config, or null once every problem has been written out (exit 1 then). */
export function loadConfigOrReport(write: (text: string) => void, rawEnv: Record<string, string | undefined> = process.env): Config | null {
  try {
    return loadConfig(rawEnv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    write(`${err.message}\n`);
    return null;
  }
}
