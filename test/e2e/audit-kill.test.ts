/**
 * A replica killed with SIGKILL the moment Slack has its answer to a command still leaves the
 * command in the audit trail. With Postgres answering, the row is committed before the answer
 * goes. With Postgres slow (the audit chain's lock held by someone else), the answer waits a
 * moment, the event goes to the disk spool first, and the next start on that directory writes it.
 * In a burst (a write already under way) each event goes to disk before its answer, and a replica
 * sharing the directory claims and writes what the killed one left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { CHAIN_LOCK, verifyAuditChain } from '../../src/audit/chain.ts';
import { ALERT_SIGNING_SECRET, alertsBotEnv } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { postSigned, signedSlashCommand } from '../support/slack-requests.ts';
import { startVigilProcess, type VigilProcess } from '../support/vigil-process.ts';
import { waitFor } from '../support/wait.ts';

let world: BotWorld;
const started: VigilProcess[] = [];

async function startBot(): Promise<VigilProcess> {
  const bot = await startVigilProcess({
    workDir: world.workDir,
    config: { state: { queuePrefix: world.queuePrefix }, bullmq: { prefix: `${world.queuePrefix}-inspected` } },
    env: alertsBotEnv({ slack: world.slack, databaseUrl: world.testDb.url }),
  });
  started.push(bot);
  return bot;
}

/** `/vigil help` as `user`; SIGKILL the bot as soon as the answer is in. */
async function answeredThenKilled(bot: VigilProcess, user: string): Promise<number> {
  const res = await postSigned(
    `${bot.baseUrl}/slack/events`,
    signedSlashCommand({ command: '/vigil', text: 'help', user_id: user, user_name: user.toLowerCase() }, { signingSecret: ALERT_SIGNING_SECRET }),
  );
  process.kill(bot.pid, 'SIGKILL');
  return res.status;
}

async function commandRows(user: string): Promise<number> {
  const { rows } = await world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM vigil.audit_events WHERE kind = 'command' AND actor_id = $1", [user]);
  return rows[0]?.n ?? 0;
}

/** Holds the audit chain's lock from a session of the test's own until released. */
async function holdChainLock(): Promise<pg.PoolClient> {
  const client = await world.db.connect();
  await client.query('BEGIN');
  await client.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
  return client;
}

beforeAll(async () => {
  world = await createBotWorld('auditkill');
}, 60_000);

afterAll(async () => {
  for (const bot of started) await bot.stop();
  await world?.close();
});

describe('a command answered just before the replica is killed', () => {
  it('is in the audit trail when the kill comes right after the answer', { timeout: 90_000 }, async () => {
    const bot = await startBot();
    for (const user of ['U0KILLFAST0', 'U0KILLFAST1', 'U0KILLFAST2']) {
      const target = user === 'U0KILLFAST0' ? bot : await startBot();
      expect(await answeredThenKilled(target, user)).toBe(200);
      // No restart: the row was committed before Slack got its answer.
      expect(await commandRows(user)).toBe(1);
    }
  });

  it('in a burst, is written by a replica sharing the directory, with no restart of the one killed', { timeout: 90_000 }, async () => {
    const sibling = await startBot();
    const bot = await startBot();
    const users = Array.from({ length: 30 }, (_, i) => `U0KILLBURST${i}`);
    const answers = await Promise.all(
      users.map((user) => postSigned(`${bot.baseUrl}/slack/events`, signedSlashCommand({ command: '/vigil', text: 'help', user_id: user }, { signingSecret: ALERT_SIGNING_SECRET }))),
    );
    process.kill(bot.pid, 'SIGKILL');
    expect(answers.map((a) => a.status)).toEqual(users.map(() => 200));
    const audited = async () => (await Promise.all(users.map(commandRows))).filter((n) => n === 1).length;
    await waitFor(async () => (await audited()) === users.length, { timeoutMs: 20_000, what: 'every answered command of the burst in the audit trail' });
    expect(await Promise.all(users.map(commandRows))).toEqual(users.map(() => 1));
    expect(sibling.pid).not.toBe(bot.pid);
  });

  it('is on disk when Postgres was slow, and it is written once after the kill', { timeout: 90_000 }, async () => {
    const bot = await startBot();
    const lock = await holdChainLock();
    const asked = Date.now();
    let status: number;
    try {
      status = await answeredThenKilled(bot, 'U0KILLSLOW');
    } finally {
      await lock.query('COMMIT');
      lock.release();
    }
    expect(status).toBe(200);
    // The answer waited for the event to be safe, but well within Slack's 3 s.
    expect(Date.now() - asked).toBeLessThan(2500);
    await startBot();
    await waitFor(async () => (await commandRows('U0KILLSLOW')) >= 1, { timeoutMs: 20_000, what: "the killed bot's spooled command, written by the next start" });
    expect(await commandRows('U0KILLSLOW')).toBe(1);
    expect(await verifyAuditChain(world.db)).toMatchObject({ ok: true });
  });
});
