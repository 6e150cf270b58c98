/**
 * Fault injection through the real bot: Postgres and Redis behind a TCP proxy that refuses, resets
 * or goes silent, signed slash commands arriving meanwhile. Each case holds a figure: rows written
 * = commands acked, and recovery within a bound once the link is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertsBot, ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { startFaultProxy, type FaultProxy, type LinkFault } from '../support/fault-proxy.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
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

/** Alertmanager's webhook body for one critical alert named `name`. */
function criticalAlert(name: string) {
  return {
    receiver: 'vigil',
    status: 'firing',
    alerts: [{ status: 'firing', labels: { alertname: name, severity: 'critical' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: `${name}-1` }],
    groupLabels: { alertname: name },
    commonLabels: { alertname: name, severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    version: '4',
    groupKey: `{}:{alertname="${name}"}`,
    truncatedAlerts: 0,
  };
}

/** Post `name` as a critical alert, wait for its message, and return it with its Acknowledge button. */
async function postedWithAck(name: string) {
  const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` },
    body: JSON.stringify(criticalAlert(name)),
  });
  expect(res.status).toBe(200);
  await waitFor(() => world.slack.messages('C0ALERTS').some((m) => JSON.stringify(m.blocks).includes(name)), { timeoutMs: 10_000, what: 'the alert in Slack' });
  const message = world.slack.topLevel('C0ALERTS').find((m) => JSON.stringify(m.blocks).includes(name));
  const ack = (message?.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>)
    .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
    .find((e) => e.action_id?.startsWith('alerts.ack#'));
  return { message, ack };
}

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

describe('Redis link silent under the BullMQ connections (outbox)', () => {
  it('an alert that arrives while Redis is silent is acked and reaches Slack within seconds of the link coming back', async () => {
    const name = `SilentRedis${Date.now()}`;
    const body = {
      receiver: 'vigil',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: name, severity: 'critical', instance: 'db-1' },
          annotations: { summary: `${name} is firing` },
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus.example.com/graph',
          fingerprint: `${name}-db-1`,
        },
      ],
      groupLabels: { alertname: name },
      commonLabels: { alertname: name, severity: 'critical' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager.example.com:9093',
      version: '4',
      groupKey: `{}:{alertname="${name}"}`,
      truncatedAlerts: 0,
    };
    await redisProxy.set('silent');
    // Long enough for the outbox's blocking read to be waiting on the dead link.
    await sleep(1500);
    const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` },
      body: JSON.stringify(body),
    });
    // Stored in Postgres before the answer: Alertmanager need not resend it.
    expect(res.status).toBe(200);
    await sleep(2000);
    expect(world.slack.messages('C0ALERTS').some((m) => JSON.stringify(m.blocks).includes(name))).toBe(false);
    await redisProxy.set('pass');
    const back = Date.now();
    // Connections that went silent stay dead: each client must notice (socket timeout) and reconnect.
    await waitFor(async () => world.slack.messages('C0ALERTS').some((m) => JSON.stringify(m.blocks).includes(name)), { timeoutMs: 40_000, intervalMs: 200, what: 'the alert in Slack' });
    const deliveredMs = Date.now() - back;
    console.info(`fault redis silent (outbox): alert acked during the silence, in Slack ${deliveredMs} ms after the link came back`);
    expect(deliveredMs).toBeLessThan(30_000);
  }, 60_000);
});

describe('Postgres refusing when someone clicks', () => {
  it('an Acknowledge says which dependency is down and that nothing was recorded, not "something went wrong"', async () => {
    const name = `AckPgDown${Date.now()}`;
    const { message, ack } = await postedWithAck(name);
    await pgProxy.set('refuse');
    try {
      const click = blockActionsBody({ actionId: ack?.action_id ?? '', value: ack?.value ?? '', userId: 'U0GREG', userName: 'greg', channelId: 'C0ALERTS', messageTs: message?.ts, responseUrl: world.slack.responseUrl() });
      expect((await postSigned(`${bot.baseUrl}/slack/events`, signBody(click, { signingSecret: ALERT_SIGNING_SECRET }))).status).toBe(200);
      await waitFor(() => world.slack.responses.some((r) => JSON.stringify(r.body).includes('Cannot handle this click now: Postgres at')), { timeoutMs: 10_000, what: 'the fail-closed answer' });
      const answer = JSON.stringify(world.slack.responses.find((r) => JSON.stringify(r.body).includes('Cannot handle this click now'))?.body);
      expect(answer).toContain(`Postgres at ${pgProxy.address} refused the connection`);
      expect(answer).toContain('Nothing was recorded; try again once it is back.');
      expect(answer).not.toContain('Something went wrong');
    } finally {
      await pgProxy.set('pass');
    }
  }, 30_000);
});

describe('an Acknowledge while Redis is silent', () => {
  it("does not hold up anyone else's audit writes while its message waits for the outbox", async () => {
    const name = `AckRedisSilent${Date.now()}`;
    const { message, ack } = await postedWithAck(name);
    await redisProxy.set('silent');
    try {
      const click = blockActionsBody({ actionId: ack?.action_id ?? '', value: ack?.value ?? '', userId: 'U0HANK', userName: 'hank', channelId: 'C0ALERTS', messageTs: message?.ts, responseUrl: world.slack.responseUrl() });
      expect((await postSigned(`${bot.baseUrl}/slack/events`, signBody(click, { signingSecret: ALERT_SIGNING_SECRET }))).status).toBe(200);
      await sleep(300); // the click's handler is now waiting on the outbox
      const tag = `during-ack-${Date.now()}`;
      const started = Date.now();
      await burst(tag, 5, 5);
      await waitFor(async () => (await rowsTagged(tag)) === 5, { timeoutMs: 15_000, intervalMs: 100, what: 'the audit rows of commands run meanwhile' });
      const writtenMs = Date.now() - started;
      console.info(`fault redis silent (ack): 5 command audit rows written ${writtenMs} ms after, while an ack waited on the outbox`);
      expect(writtenMs).toBeLessThan(5000);
    } finally {
      await redisProxy.set('pass');
    }
    // The click itself ends either way (its outbox hand-off is bounded): acknowledged once the link
    // is back, or told the outbox did not answer, with nothing recorded.
    await waitFor(() => world.slack.responses.some((r) => /Acknowledged \d|Slack outbox did not answer/.test(JSON.stringify(r.body))), { timeoutMs: 20_000, what: "the click's answer" });
  }, 60_000);
});

describe('stopping while Redis is silent', () => {
  it('takes seconds, not a socket timeout per connection', async () => {
    await redisProxy.set('silent');
    const started = Date.now();
    await bot.stop();
    const stopMs = Date.now() - started;
    console.info(`fault redis silent: stopped in ${stopMs} ms`);
    // A QUIT on a silent link never gets its answer: each would wait out the 15 s socket timeout.
    expect(stopMs).toBeLessThan(8000);
    await redisProxy.set('pass');
  }, 60_000);
});
