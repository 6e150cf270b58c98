import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { fileSchema } from '../config/file.ts';
import type { CommandInfo } from '../core/command.ts';
import { EXIT } from '../core/exit-codes.ts';
import { MANIFEST_PATHS, manifestFile, type ManifestMode } from './manifest.ts';
import { SLACK_EVENTS_PATH } from './receiver.ts';
import { ALL_FEATURES, botScopes, featuresOf, type FeatureSet } from './scopes.ts';

/** sysexits: the command line was wrong (a bad URL, an unknown option, a missing file). */
export const EXIT_USAGE = EXIT.USAGE;
/** sysexits: the configuration file given with --config is not a valid Vigil configuration. */
export const EXIT_DATAERR = EXIT.DATA_ERROR;

export const DEFAULT_OUT = 'slack-app.json';

export const USAGE = `Usage:
  npm run manifest                                   regenerate manifests/slack-app.{http,socket}.json
  npm run manifest -- --url https://vigil.acme.com   your HTTP-mode manifest, into ${DEFAULT_OUT}
  npm run manifest -- --mode socket                  your Socket Mode manifest, into ${DEFAULT_OUT}

Options:
  --url <https://host[/prefix]>  public base URL of Vigil; Slack calls <url>${SLACK_EVENTS_PATH} (HTTP mode)
  --mode http|socket             default http; socket needs no URL
  --config <vigil.yaml>          ask only for the scopes the features configured there use
                                 (default: every feature's scopes)
  --out <file>|-                 where to write it (default ${DEFAULT_OUT}); - prints it
                                 (use npm run -s so npm adds no header)
`;

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/i;

/**
 * The base URL Slack will call, as given to --url: https, reachable from Slack, no credentials,
 * query or fragment; an optional path prefix (for a reverse proxy that strips it). Comes out
 * without a trailing slash, ready for `${SLACK_EVENTS_PATH}` to be appended.
 */
export const publicBaseUrl = z.string().transform((text, ctx) => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const trimmed = text.trim();
  if (!URL.canParse(trimmed)) return fail(`not a URL: give the address Slack should call, like https://vigil.acme.com`);
  const url = new URL(trimmed);
  if (url.protocol !== 'https:') return fail(`must start with https:// (Slack only calls HTTPS request URLs), got ${url.protocol}//`);
  if (url.username || url.password) return fail('must not carry a user name or password');
  if (url.search || url.hash || trimmed.endsWith('?') || trimmed.endsWith('#')) return fail('must not have a query (?…) or a fragment (#…)');
  if (LOOPBACK.test(url.hostname)) return fail(`${url.hostname} is this machine: Slack calls from the internet (for a local try, use a tunnel's https URL or --mode socket)`);
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  if (base.endsWith(SLACK_EVENTS_PATH)) return fail(`give the base URL without ${SLACK_EVENTS_PATH}: the manifest appends it`);
  return base;
});

const cliSchema = z
  .object({
    url: publicBaseUrl.optional(),
    mode: z.enum(['http', 'socket'], { error: 'must be http or socket' }).optional(),
    out: z.string().min(1, 'must name a file, or - for stdout').optional(),
    config: z.string().min(1, 'must name a file').optional(),
    help: z.boolean().optional(),
  })
  .superRefine((o, ctx) => {
    const mode = o.mode ?? 'http';
    if (mode === 'socket' && o.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'Socket Mode has no request URL: drop --url, or use --mode http' });
    const custom = o.url !== undefined || o.mode !== undefined || o.out !== undefined || o.config !== undefined;
    if (custom && mode === 'http' && o.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'HTTP mode needs your public URL: --url https://… (or --mode socket)' });
    }
  });

/** What the command line asks for. */
export type ManifestPlan =
  | { kind: 'help' }
  /** No options: the checked-in manifests, placeholder URL and every feature's scopes. */
  | { kind: 'checked-in' }
  | { kind: 'custom'; mode: ManifestMode; baseUrl?: string; out: string; config?: string };

export class ManifestCliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'ManifestCliError';
  }
}

export function planFromArgv(argv: readonly string[]): ManifestPlan {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { url: { type: 'string' }, mode: { type: 'string' }, out: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    // node:util's messages are clear but end with a hint about '--' that does not apply here.
    throw new ManifestCliError((err instanceof Error ? err.message : String(err)).replace(/\. To specify a positional argument.*$/s, ''), EXIT_USAGE);
  }
  const parsed = cliSchema.safeParse(values);
  if (!parsed.success) {
    throw new ManifestCliError(parsed.error.issues.map((i) => `${i.path.length ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('\n'), EXIT_USAGE);
  }
  const o = parsed.data;
  if (o.help) return { kind: 'help' };
  if (o.url === undefined && o.mode === undefined && o.out === undefined && o.config === undefined) return { kind: 'checked-in' };
  return { kind: 'custom', mode: o.mode ?? 'http', ...(o.url !== undefined ? { baseUrl: o.url } : {}), out: o.out ?? DEFAULT_OUT, ...(o.config !== undefined ? { config: o.config } : {}) };
}

/** The features a configuration file turns on; problems name keys, as at start. */
export function featuresFromConfigFile(path: string): FeatureSet {
  if (!existsSync(path)) throw new ManifestCliError(`--config: file not found: ${path}`, EXIT_USAGE);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    throw new ManifestCliError(`${path}: not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`, EXIT_DATAERR);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${path}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ManifestCliError(`Invalid configuration:\n${problems.join('\n')}`, EXIT_DATAERR);
  }
  return featuresOf(parsed.data);
}

export interface ManifestCliIo {
  commands: readonly CommandInfo[];
  /** Where manifests/ lives. */
  repoRoot: string;
  /** What --out and --config are relative to. */
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  writeFile(path: string, text: string): void;
}

/** `npm run manifest [-- options]`: the exit status, after writing what it did or what was wrong. */
export function runManifestCli(argv: readonly string[], io: ManifestCliIo): number {
  try {
    const plan = planFromArgv(argv);
    if (plan.kind === 'help') {
      io.stdout(USAGE);
      return 0;
    }
    if (plan.kind === 'checked-in') {
      for (const mode of Object.keys(MANIFEST_PATHS) as ManifestMode[]) {
        io.writeFile(resolve(io.repoRoot, MANIFEST_PATHS[mode]), manifestFile(io.commands, mode));
        io.stdout(`wrote ${MANIFEST_PATHS[mode]}\n`);
      }
      return 0;
    }
    writeCustom(plan, io);
    return 0;
  } catch (err) {
    if (!(err instanceof ManifestCliError)) throw err;
    io.stderr(`manifest: ${err.message}\n${err.exitCode === EXIT_USAGE ? 'Options: npm run manifest -- --help\n' : ''}`);
    return err.exitCode;
  }
}

function writeCustom(plan: Extract<ManifestPlan, { kind: 'custom' }>, io: ManifestCliIo): void {
  const features = plan.config ? featuresFromConfigFile(resolve(io.cwd, plan.config)) : ALL_FEATURES;
  const text = manifestFile(io.commands, plan.mode, { features, ...(plan.baseUrl !== undefined ? { baseUrl: plan.baseUrl } : {}) });
  const what = plan.mode === 'http' ? `HTTP mode: Slack calls ${plan.baseUrl}${SLACK_EVENTS_PATH}` : 'Socket Mode';
  const scopes = `bot scopes ${botScopes(features).join(', ')} (${plan.config ? `what ${plan.config} enables` : 'every feature; --config <vigil.yaml> asks only for what it enables'})`;
  if (plan.out === '-') {
    io.stdout(text);
    io.stderr(`manifest: ${what}; ${scopes}\n`);
    return;
  }
  const target = resolve(io.cwd, plan.out);
  const checkedIn = Object.values(MANIFEST_PATHS).find((p) => resolve(io.repoRoot, p) === target);
  if (checkedIn) {
    throw new ManifestCliError(`--out: ${checkedIn} is the checked-in manifest (placeholder URL, compared by a test); write yours elsewhere, e.g. the default ${DEFAULT_OUT}`, EXIT_USAGE);
  }
  io.writeFile(target, text);
  const shown = isAbsolute(plan.out) ? target : relative(io.cwd, target);
  io.stdout(`wrote ${shown}\n  ${what}\n  ${scopes}\nNext: https://api.slack.com/apps → Create New App → From a manifest → paste this file.\n`);
}
