/**
 * Benchmark 6: approve click → job running. The real bot (in this process, real Postgres and
 * Redis, the Slack stand-in) with one approved action whose run is `/bin/true`. 200 requests are
 * made with /run; then each is approved by a signed block_actions click, one after another, and
 * the time from sending the click to the request's `started_at` (set by the worker's guarded
 * approved → running UPDATE, on the same machine's clock) is the figure. Target: p50 ≤ 100 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ALERT_SIGNING_SECRET, startAlertsBot } from '../support/alerts-bot.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
import { startSlackApiServer } from '../support/slack-api-server.ts';
import { line, summarize, verdict } from './stats.ts';

const REQUESTS = 200;
const TARGET_P50_MS = 100;

export async function benchActionApprove(): Promise<void> {
  console.log(`\n6. Approve click → job running: ${REQUESTS} requests approved one after another (the action runs /bin/true)`);
  const slack = await startSlackApiServer({ perChannelPerSecond: 1000, burst: 1000 });
  const db = await createTestDatabase('bench_actions');
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-bench-actions-'));
  const queuePrefix = uniqueName('bench_actions');
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const bot = await startAlertsBot({
    slack,
    databaseUrl: db.url,
    workDir,
    queuePrefix,
    alerts: { channels: { default: 'C0BENCH' } },
    extra: {
      slack: { outbox: { perSecond: 100, burst: 20 } },
      actions: { approvalChannel: 'C0APPROVE', catalog: { noop: { title: 'Do nothing', risk: 'low', exec: ['/bin/true'], approvers: { users: ['U0BOSS'] } } } },
    },
  });
  try {
    const events = `${bot.baseUrl}/slack/events`;
    for (let i = 0; i < REQUESTS; i++) {
      await postSigned(events, signedSlashCommand({ command: '/run', text: 'noop', user_id: 'U0ALICE', user_name: 'alice' }, { signingSecret: ALERT_SIGNING_SECRET }));
    }
    const { rows } = await pool.query<{ id: string }>("SELECT id FROM vigil.action_requests WHERE state = 'requested' ORDER BY created_at");
    const samples: number[] = [];
    for (const { id } of rows) {
      const clickedAt = Date.now();
      await postSigned(
        events,
        signBody(blockActionsBody({ actionId: 'actions.approve#0', value: id, userId: 'U0BOSS', userName: 'boss', responseUrl: slack.responseUrl() }), { signingSecret: ALERT_SIGNING_SECRET }),
      );
      for (let waited = 0; waited < 5000; waited += 2) {
        const started = await pool.query<{ started_at: Date | null }>('SELECT started_at FROM vigil.action_requests WHERE id = $1', [id]);
        const at = started.rows[0]?.started_at;
        if (at) {
          samples.push(at.getTime() - clickedAt);
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const s = summarize(samples);
    console.log(line('click → running', s));
    console.log(`  ${samples.length} of ${rows.length} started within 5 s; p50 ${verdict(s.p50, TARGET_P50_MS)}`);
  } finally {
    await bot.stop();
    await pool.end();
    await db.drop();
    await slack.close();
    await rm(workDir, { recursive: true, force: true });
    const redis = new Redis(TEST_REDIS_URL);
    await deleteKeysUnder(redis, queuePrefix);
    redis.disconnect();
  }
}
