import { z } from 'zod';
import { terminalUserName } from '../access/access-config.ts';

const url = (protocols: string[], example: string) =>
  z.string().refine(
    (value) => URL.canParse(value) && protocols.includes(new URL(value).protocol),
    `must be a URL like ${example}`,
  );

/** Secrets are checked for shape only; their values never reach a message. */
export const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token starting with xoxb-').optional(),
  SLACK_SIGNING_SECRET: z.string().min(16, 'must be the signing secret from the Slack app settings').optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'must be an app-level token starting with xapp-').optional(),
  SLACK_API_URL: url(['http:', 'https:'], 'https://slack.com/api/').optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://user@host:5432/db').optional(),
  VIGIL_DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://vigil@host:5432/vigil').optional(),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://host:6379').optional(),
  // Alertmanager sends it as `Authorization: Bearer …`; long enough not to be guessed.
  ALERT_WEBHOOK_TOKEN: z.string().min(16, 'must be at least 16 characters (generate one: openssl rand -hex 24)').optional(),
  // The audit chain's HMAC key (issue 18): never stored in the database, so rows written without it do not check out.
  VIGIL_AUDIT_KEY: z.string().min(32, 'must be at least 32 characters (generate one: openssl rand -hex 32)').optional(),
  // Alertmanager's API (v2) for the silence actions; credentials in the URL are sent as Basic auth.
  ALERTMANAGER_URL: url(['http:', 'https:'], 'http://alertmanager:9093').optional(),
  // Prometheus's HTTP API, where the SLOs' error ratios are read; credentials in the URL are sent as Basic auth.
  PROMETHEUS_URL: url(['http:', 'https:'], 'http://prometheus:9090').optional(),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  // Address the HTTP server listens on; unset: loopback only, unless Slack over HTTP needs it reachable.
  HOST: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'must be an address to listen on, like 0.0.0.0, 127.0.0.1 or ::').optional(),
  VIGIL_CONFIG: z.string().min(1).optional(),
  // Who is at the terminal (shell, CLI) when not the OS login; mapped to Slack in access.terminalUsers.
  VIGIL_USER: terminalUserName.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

/** Empty strings in env mean "not set" (as `FOO=` in a .env file does). */
export function dropEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}
