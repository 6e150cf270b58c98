/**
 * The real bot with an `alerts:` section, for alert tests: config loaded as main.ts loads it,
 * the Slack stand-in in place of slack.com, the machine's Postgres and Redis.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import type { FeatureFactory } from '../../src/features/feature.ts';
import { startVigil, type RunningVigil } from '../../src/vigil.ts';
import { TEST_REDIS_URL } from './env.ts';
import type { SlackApiServer } from './slack-api-server.ts';

export const ALERT_BOT_TOKEN = `xoxb-alerts-${randomBytes(12).toString('hex')}`;
export const ALERT_SIGNING_SECRET = `alerts-signing-secret-${randomBytes(12).toString('hex')}`;
export const ALERT_WEBHOOK_TOKEN = `alert-token-${randomBytes(16).toString('hex')}`;

/** The environment of a bot in a process of its own (`startVigilProcess`) against the Slack stand-in. */
export function alertsBotEnv(o: { slack: SlackApiServer; databaseUrl: string; redisUrl?: string }): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: ALERT_BOT_TOKEN,
    SLACK_SIGNING_SECRET: ALERT_SIGNING_SECRET,
    SLACK_API_URL: `${o.slack.url}/api/`,
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl ?? TEST_REDIS_URL,
    ALERT_WEBHOOK_TOKEN,
  };
}

export interface AlertsBotOptions {
  slack: SlackApiServer;
  databaseUrl: string;
  workDir: string;
  /** Vigil's own key prefix (outbox, leases); unique per test file. */
  queuePrefix: string;
  alerts: Record<string, unknown>;
  /** The bullmq section (prefix of the queues the bot inspects); default `<queuePrefix>-inspected`. */
  bullmq?: Record<string, unknown>;
  /** 0 picks a free port; a fixed one survives a restart (Alertmanager's webhook URL names it). */
  port?: number;
  /** Default: the machine's Redis (a fault test puts a proxy in between). */
  redisUrl?: string;
  /** Further environment (e.g. ALERTMANAGER_URL). */
  env?: Record<string, string>;
  /** Start it without Slack (as `npm start` runs with no Slack configured: the shell's instance). */
  withoutSlack?: boolean;
  /** Further top-level YAML sections (e.g. `actions`). */
  extra?: Record<string, unknown>;
  /** Replace the default feature list (e.g. the alerts feature with shorter delays). */
  features?: readonly FeatureFactory[];
}

export interface AlertsBot {
  vigil: RunningVigil;
  baseUrl: string;
  /** The YAML config it was started with (a CLI beside it can use the same). */
  configPath: string;
  stop(): Promise<void>;
}

export async function startAlertsBot(o: AlertsBotOptions): Promise<AlertsBot> {
  const path = join(o.workDir, `vigil-${randomBytes(4).toString('hex')}.yaml`);
  await writeFile(
    path,
    toYaml({
      alerts: o.alerts,
      state: { queuePrefix: o.queuePrefix },
      bullmq: o.bullmq ?? { prefix: `${o.queuePrefix}-inspected` },
      // Faster than Slack's real pace so tests run quickly; the stand-ins allow a little more.
      slack: { outbox: { perSecond: 20, burst: 4 } },
      ...o.extra,
    }),
  );
  const config = loadConfig(
    {
      ...(o.withoutSlack ? {} : { SLACK_BOT_TOKEN: ALERT_BOT_TOKEN, SLACK_SIGNING_SECRET: ALERT_SIGNING_SECRET, SLACK_API_URL: `${o.slack.url}/api/` }),
      DATABASE_URL: o.databaseUrl,
      REDIS_URL: o.redisUrl ?? TEST_REDIS_URL,
      ALERT_WEBHOOK_TOKEN,
      PORT: String(o.port ?? 0),
      VIGIL_CONFIG: path,
      PATH: process.env.PATH,
      ...o.env,
    },
    o.workDir,
  );
  const vigil = await startVigil({
    config,
    log: pino({ level: process.env.VIGIL_TEST_LOG_LEVEL ?? 'silent' }),
    announce: () => undefined,
    embedded: false,
    ...(o.features ? { features: o.features } : {}),
  });
  if (!vigil.server) throw new Error('Vigil started without its HTTP server');
  return { vigil, baseUrl: `http://127.0.0.1:${vigil.server.port}`, configPath: path, stop: () => vigil.stop() };
}
