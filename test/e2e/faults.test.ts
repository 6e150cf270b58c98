/**
 * Fault injection through the real bot: Postgres and Redis behind a TCP proxy that refuses, resets
 * or goes silent, signed slash commands arriving meanwhile. Each case holds a figure: rows written
 * = commands acked, and recovery within a bound once the link is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertsBot, ALERT_SIGNING_SECRET, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { startFaultProxy, type FaultProxy, type LinkFault } from '../support/fault-proxy.ts';
import { postSigned, signedSlashCommand } from '../support/slack-requests.ts';
import { sleep, waitFor } from '../support/wait.ts';

let world: BotWorld;
let pgProxy: FaultProxy;
let redisProxy: FaultProxy;
let bot: AlertsBot;

function through(proxy: FaultProxy, url: string): string {
  const u = new URL(url);
  u.host = proxy.address;
  return u.toString();
}

beforeAll(async () => {
  world = await createBotWorld('faults');
  const pgUrl = new URL(world.testDb.url);
  pgProxy = await startFaultProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  const redisUrl = new URL(TEST_REDIS_URL);
  redisProxy = await startFaultProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
  bot = await startAlertsBot({
    slack: world.slack,
    databaseUrl: through(pgProxy, world.testDb.url),
    redisUrl: through(redisProxy, TEST_REDIS_URL),
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    alerts: { channels: { default: 'C0ALERTS' } },
  });
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await pgProxy?.close();
  await redisProxy?.close();
  await world?.close();
});

/** Send `count` signed /health commands, `inFlight` at a time, tagged so their rows can be counted. */
async function burst(tag: string, count: number, inFlight = 20): Promise<{ acked: number; answered: number }> {
  let next = 0;
  let acked = 0;
  let answered = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const req = signedSlashCommand({ command: '/health', text: `${tag}-${i}` }, { signingSecret: ALERT_SIGNING_SECRET });
      const res = await postSigned(`${bot.baseUrl}/slack/events`, req);
      answered++;
      if (res.status === 200) acked++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { acked, answered };
}

async function rowsTagged(tag: string): Promise<number> {
  const { rows } = await world.db.query<{ n: string }>("SELECT count(*) AS n FROM vigil.audit_events WHERE kind = 'command' AND details->>'args' LIKE $1", [`${tag}-%`]);
  return Number(rows[0]?.n ?? 0);
}

async function readyz(): Promise<{ status: number; body: { checks: Array<{ name: string; ready: boolean; error?: string }> } }> {
  const res = await fetch(`${bot.baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks: Array<{ name: string; ready: boolean; error?: string }> } };
}

/** Milliseconds from now until /readyz answers 200. */
async function timeToReady(timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitFor(async () => (await readyz()).status === 200, { timeoutMs, intervalMs: 100, what: '/readyz 200' });
  return Date.now() - started;
}

describe.each<LinkFault>(['refuse', 'reset', 'silent'])('Postgres link: %s', (fault) => {
  it('every acked command gets its audit row, and Vigil is ready again within seconds of the link coming back', async () => {
    const tag = `pg-${fault}`;
    const during = burst(tag, 150);
    await sleep(150);
    await pgProxy.set(fault);
    await sleep(fault === 'silent' ? 2500 : 1500);
    expect((await readyz()).status).toBe(503);
    await pgProxy.set('pass');
    const { acked, answered } = await during;
    expect(answered).toBe(150);
    expect(acked).toBe(150);

    const recoveryMs = await timeToReady(15_000);
    await bot.vigil.container.flushAudit();
    const written = await rowsTagged(tag);
    console.info(`fault postgres ${fault}: acked ${acked}, audit rows written ${written}, ready again ${recoveryMs} ms after the link came back`);
    expect(written).toBe(acked);
    // A silent link ends at the client's query timeout (6 s); a refused or reset one at the next retry.
    expect(recoveryMs).toBeLessThan(fault === 'silent' ? 12_000 : 6000);
  }, 60_000);
});

describe.each<LinkFault>(['refuse', 'silent'])('Redis link: %s', (fault) => {
  it('/health says Redis is down, and Vigil is ready again within seconds of the link coming back', async () => {
    await redisProxy.set(fault);
    const req = signedSlashCommand({ command: '/health', text: '' }, { signingSecret: ALERT_SIGNING_SECRET });
    const res = await postSigned(`${bot.baseUrl}/slack/events`, req);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json)).toMatch(/Redis/);
    await waitFor(async () => (await readyz()).body.checks.some((c) => c.name === 'redis' && !c.ready), { timeoutMs: 5000, what: 'redis not ready' });
    await redisProxy.set('pass');
    const recoveryMs = await timeToReady(10_000);
    console.info(`fault redis ${fault}: ready again ${recoveryMs} ms after the link came back`);
    expect(recoveryMs).toBeLessThan(8000);
  }, 30_000);
});
