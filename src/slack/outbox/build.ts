import type { Redis } from 'ioredis';
import type { Config } from '../../config/load.ts';
import { createQueueConnection } from '../../db/redis-clients.ts';
import type { StateStore } from '../../db/state.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import type { Outbox } from './types.ts';

// The composition root's outbox parts: the client and the outbox module are imported when built,
// so a one-shot CLI call that needs neither does not load them.

/**
 * The Slack outbox, on a BullMQ connection of Vigil's own and a Web API client that leaves 429s
 * and retries to it. Null without Slack (shell mode has no channel to post to).
 */
export async function buildOutbox(
  config: Config,
  log: Logger,
  metrics: Metrics,
  state: StateStore,
  redisUrl: string | null,
): Promise<{ outbox: Outbox; connection: Redis } | { missing: string } | null> {
  if (config.slack.kind === 'none') return null;
  if (!redisUrl) return { missing: 'no Redis' };
  const statePool = state.pool;
  const status = state.status();
  if (!statePool || status.kind === 'off') return { missing: `state is off${status.kind === 'off' ? `: ${status.why}` : ''}` };
  const [{ createSlackClient }, { createOutbox }] = await Promise.all([import('../client.ts'), import('./outbox.ts')]);
  const connection = createQueueConnection(redisUrl, log);
  const client = createSlackClient({ token: config.slack.botToken, ...(config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {}), log });
  const outbox = createOutbox({ connection, prefix: config.file.state.queuePrefix, db: statePool, client, pace: config.file.slack.outbox, metrics: metrics.registry, log });
  return { outbox, connection };
}

/**
 * An enqueue-only outbox for a replica without Slack of its own (no worker, no client): what it
 * sends waits in Redis for a bot's worker. Null without Redis or state.
 */
export async function buildRelayOutbox(config: Config, log: Logger, metrics: Metrics, state: StateStore, redisUrl: string | null): Promise<{ outbox: Outbox; connection: Redis } | null> {
  const statePool = state.pool;
  if (!redisUrl || !statePool || state.status().kind === 'off') return null;
  const { createOutbox } = await import('./outbox.ts');
  const connection = createQueueConnection(redisUrl, log);
  const outbox = createOutbox({ connection, prefix: config.file.state.queuePrefix, db: statePool, client: null, pace: config.file.slack.outbox, metrics: metrics.registry, log });
  return { outbox, connection };
}
