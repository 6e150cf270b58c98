import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { readDotenv, withDotenv, type Dotenv } from './dotenv.ts';
import { dropEmpty, envSchema, type Env } from './env.ts';
import { fileSchema, type FileConfig } from './file.ts';
import { dropPlaceholders } from './placeholders.ts';
import { allCommands } from '../../commands/index.ts';
import { unknownCommandRules } from '../access/policy.ts';

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
  /** Where the HTTP server listens: HOST, else every address for Slack over HTTP, else loopback only. */
  httpHost: string;
  /** Said once at start: that `.env` was read, which placeholder values were ignored. */
  notices: string[];
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

/** Secrets and endpoints, where `.env.example` holds placeholders (not VIGIL_CONFIG: a path may say "example"). */
const PLACEHOLDER_KEYS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'SLACK_API_URL',
  'DATABASE_URL',
  'VIGIL_DATABASE_URL',
  'REDIS_URL',
  'ALERT_WEBHOOK_TOKEN',
  'ALERTMANAGER_URL',
  'PROMETHEUS_URL',
  'VIGIL_AUDIT_KEY',
] as const;

export interface LoadOptions {
  /** Read `.env` in `cwd` beneath the environment (the entry points do; tests pass their env whole). */
  dotenv?: boolean;
}

/**
 * Parse env and the YAML file once, at start, and fail listing every problem. The only place in
 * Vigil that reads `process.env`; everything else receives the Config.
 */
export function loadConfig(rawEnv: Record<string, string | undefined> = process.env, cwd = process.cwd(), opts: LoadOptions = {}): Config {
  const problems: string[] = [];
  const notices: string[] = [];
  const dotenv = opts.dotenv ? readDotenv(cwd) : null;
  if (dotenv) {
    problems.push(...dotenv.problems);
    notices.push(dotenvNotice(dotenv, rawEnv));
  }
  const fullEnv = withDotenv(rawEnv, dotenv);
  const { env: given, dropped } = dropPlaceholders(dropEmpty(fullEnv), PLACEHOLDER_KEYS);
  if (dropped.length > 0) {
    notices.push(`Env: ${dropped.join(', ')} ${dropped.length === 1 ? 'holds a placeholder' : 'hold placeholders'} (as copied from .env.example), treated as unset`);
  }
  const envResult = envSchema.safeParse(given);
  if (!envResult.success) problems.push(...describe(envResult.error, 'env '));

  const requested = given.VIGIL_CONFIG;
  const path = resolve(cwd, requested ?? DEFAULT_CONFIG_PATH);
  let fileSource = path;
  let raw: unknown = {};
  if (existsSync(path)) {
    const text = readConfigFile(path, requested ? 'VIGIL_CONFIG' : 'the default configuration', problems);
    try {
      raw = text === null ? {} : (parseYaml(text) ?? {});
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
  // A rule for a command Vigil does not have is a typo that leaves the real command open.
  if (fileResult.success) problems.push(...unknownCommandRules(fileResult.data.access, allCommands.map((c) => c.name)).map((p) => `${path}: ${p}`));

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
    httpHost: env.HOST ?? (slack.kind === 'http' ? '0.0.0.0' : '127.0.0.1'),
    notices,
    dataDir: resolve(cwd, '.vigil'),
    cwd,
    pathEnv: fullEnv.PATH ?? '',
    processEnv: fullEnv,
  };
}

/**
 * The file's text, or null after noting why it cannot be read (a directory, no permission): said
 * as such, not as "not valid YAML", which would send the reader looking for a syntax error.
 */
function readConfigFile(path: string, what: string, problems: string[]): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${what}: ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return null;
  }
}

function dotenvNotice(dotenv: Dotenv, env: Record<string, string | undefined>): string {
  const keys = Object.keys(dotenv.values);
  const shadowed = keys.filter((k) => env[k] !== undefined).length;
  return `Env: ${dotenv.path} read (${keys.length} variable${keys.length === 1 ? '' : 's'}${shadowed ? `; ${shadowed} also set in the environment, which wins` : ''})`;
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

/** For entry points: the config, or null once every problem has been written out (then exit EXIT.CONFIG, 78). */
export function loadConfigOrReport(
  write: (text: string) => void,
  rawEnv: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): Config | null {
  try {
    return loadConfig(rawEnv, cwd, { dotenv: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    write(`${err.message}\n`);
    return null;
  }
}
