/**
 * Incidents against the real Postgres and Redis, Slack replaced by the stand-in at the HTTP
 * boundary: one incident per alert group however many declare at once on two replicas (pools),
 * a new one once the first resolved, and a channel made once: a name someone else holds moves to
 * `-2`, a channel Vigil made before a crash is found again by its marker instead of made twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { applyNotification } from '../../src/alerts/group.ts';
import { saveGroup } from '../../src/alerts/store.ts';
import { auditChain, verifyAuditChain } from '../../src/audit/chain.ts';
import type { Invoker } from '../../src/core/command.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { channelMarker, createChannelSync } from '../../src/incidents/channel-sync.ts';
import { createIncidentService, type IncidentService } from '../../src/incidents/service.ts';
import { createSlackClient } from '../../src/slack/client.ts';
import { createIncidentChannels } from '../../src/slack/incident-channels.ts';
import { createOutbox, type Outbox } from '../../src/slack/outbox/outbox.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.ts';
import { alert, CFG, snapshot, T0 } from '../unit/alerts/fixtures.ts';

const GROUP = '0123456789abcdef01234567';
const cfg = { announceChannel: 'C0ANNOUNCE', invite: { userGroups: [], users: ['U0ONCALL'] }, channelPrefix: 'inc' };
const log = pino({ level: 'silent' });
const alice: Invoker = { surface: 'slack', userId: 'U0ALICE', channelId: 'C0CRIT' };
const bob: Invoker = { surface: 'slack', userId: 'U0BOB', channelId: 'C0CRIT' };

let db: TestDatabase;
let replicaA: pg.Pool;
let replicaB: pg.Pool;
let slack: SlackApiServer;
let redis: Redis;
let outbox: Outbox;
const prefix = uniqueName('incidents');

const service = (pool: pg.Pool): IncidentService => createIncidentService({ db: async () => pool, audit: auditChain(null), cfg, changed: () => undefined });

beforeAll(async () => {
  db = await createTestDatabase('incidents');
  replicaA = createPool(db.url, { name: 'incidents-a', max: 4, onIdleError: () => undefined });
  replicaB = createPool(db.url, { name: 'incidents-b', max: 4, onIdleError: () => undefined });
  await migrate(replicaA);
  const applied = applyNotification(null, snapshot([alert('api-1')]), { groupId: GROUP, notificationId: 1, now: T0, cfg: CFG });
  if ('superseded' in applied) throw new Error('superseded');
  await saveGroup(replicaA, applied.next);
  slack = await startSlackApiServer();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const client = createSlackClient({ token: 'xoxb-incidents-test', slackApiUrl: `${slack.url}/api/`, log });
  outbox = createOutbox({ connection: redis, prefix, db: replicaA, client, pace: { perSecond: 50, burst: 10 }, metrics: new Registry(), log });
});

afterAll(async () => {
  await outbox?.close();
  await deleteKeysUnder(redis, prefix);
  redis?.disconnect();
  await slack?.close();
  await replicaA?.end();
  await replicaB?.end();
  await db?.drop();
});

describe('declaring from an alert group', () => {
  it('makes one incident however many declare at once on two replicas; the others get that one', async () => {
    const [a, b] = [service(replicaA), service(replicaB)];
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).declare({ group: { groupId: GROUP, epoch: 1 }, title: 'API errors' }, i % 3 ? alice : bob)));
    const ids = new Set(results.map((r) => r.incident.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.kind === 'declared')).toHaveLength(1);
    const { rows } = await replicaA.query('SELECT id FROM vigil.incidents');
    expect(rows).toHaveLength(1);
    const declares = await replicaA.query("SELECT 1 FROM vigil.audit_events WHERE kind = 'incident.declare'");
    expect(declares.rows).toHaveLength(1);
    expect((await verifyAuditChain(replicaA)).ok).toBe(true);
  });

  it('declares anew once the incident the group was part of is resolved', async () => {
    const a = service(replicaA);
    const first = (await a.declare({ group: { groupId: GROUP, epoch: 1 } }, alice)).incident;
    // Declared with a title above; without one an incident from an alert takes the alert's name.
    expect(first.title).toBe('API errors');
    expect((await a.declare({ group: { groupId: GROUP, epoch: 1 } }, bob)).kind).toBe('existing');
    await a.resolve(first, alice, 'fixed');
    await expect(a.resolve(first, bob, 'again')).rejects.toThrow(/already resolved/);
    const again = await a.declare({ group: { groupId: GROUP, epoch: 1 } }, bob);
    expect(again.kind).toBe('declared');
    expect(again.incident).toMatchObject({ title: 'HighErrorRate', severity: 'sev1', lead: 'U0BOB' });
    expect(again.incident.id).not.toBe(first.id);
  });
});

describe('the incident channel', () => {
  const sync = () =>
    createChannelSync({ pool: replicaA, channels: createIncidentChannels({ token: 'xoxb-incidents-test', slackApiUrl: `${slack.url}/api/`, log }), outbox, audit: auditChain(null), userGroups: null, announceChannel: 'C0ANNOUNCE', messageLink: async () => null, log });

  it('moves to -2 when someone else holds the name, and invites and sets the topic once', async () => {
    const inc = (await service(replicaA).declare({ title: 'Payments down', severity: 'sev2' }, alice)).incident;
    slack.conversations.add(inc.channelName, 'the payments team chats here');
    const worker = sync();
    while (await worker.syncOnce());
    const made = slack.conversations.channels.find((c) => c.name === `${inc.channelName}-2`);
    expect(made?.purpose).toContain(`(${channelMarker(inc.id)})`);
    expect(made?.members).toEqual(expect.arrayContaining(['U0ALICE', 'U0ONCALL']));
    expect(made?.topics).toEqual(['SEV2 · lead <@U0ALICE> · Payments down']);
    const { rows } = await replicaA.query<{ channel_id: string }>('SELECT channel_id FROM vigil.incidents WHERE id = $1', [inc.id]);
    expect(rows[0]?.channel_id).toBe(made?.id);
    // Nothing left to do: no further Slack call.
    const calls = slack.calls.length;
    expect(await worker.syncOnce()).toBe(false);
    expect(slack.calls.length).toBe(calls);
  });

  it('is left alone by other replicas while one holds it (its lease, or its back-off after a failure), then made once', async () => {
    const inc = (await service(replicaA).declare({ title: 'Queue stuck', lead: 'U0GONE' }, alice)).incident;
    const creates = () => slack.calls.filter((c) => c.method === 'conversations.create' && c.body.name === inc.channelName).length;
    const other = createChannelSync({ pool: replicaB, channels: createIncidentChannels({ token: 'xoxb-incidents-test', slackApiUrl: `${slack.url}/api/`, log }), outbox, audit: auditChain(null), userGroups: null, announceChannel: 'C0ANNOUNCE', messageLink: async () => null, log });
    // Slack fails the first create: this replica backs off, and the other one keeps off too.
    slack.inject({ method: 'conversations.create', status: 500, count: 1 });
    expect(await sync().syncOnce()).toBe(true);
    expect(await other.syncOnce()).toBe(false);
    expect(creates()).toBe(1);
    const failed = await replicaA.query<{ sync_error: string }>('SELECT sync_error FROM vigil.incidents WHERE id = $1', [inc.id]);
    expect(failed.rows[0]?.sync_error).toMatch(/500|http/i);
    // Once the back-off passed, whichever replica looks makes it; a refused invite is settled, not retried forever.
    await replicaA.query('UPDATE vigil.incidents SET sync_until = now() WHERE id = $1', [inc.id]);
    slack.inject({ method: 'conversations.invite', error: 'user_not_found', count: 1 });
    while (await other.syncOnce());
    expect(creates()).toBe(2);
    expect(slack.conversations.channels.filter((c) => c.name.startsWith(inc.channelName))).toHaveLength(1);
    const { rows } = await replicaA.query<{ invited: string[]; sync_error: string | null }>('SELECT invited, sync_error FROM vigil.incidents WHERE id = $1', [inc.id]);
    expect(rows[0]?.sync_error).toBeNull();
    expect(rows[0]?.invited.sort()).toEqual(['U0ALICE', 'U0GONE', 'U0ONCALL']);
  });

  it('finds the channel it made before a crash by its marker instead of making another', async () => {
    const inc = (await service(replicaA).declare({ title: 'Search slow' }, bob)).incident;
    // Made and marked, then the process died before the row recorded it.
    const before = slack.conversations.add(inc.channelName, `Incident ${inc.id}: Search slow (${channelMarker(inc.id)})`);
    const creates = slack.calls.filter((c) => c.method === 'conversations.create').length;
    const worker = sync();
    while (await worker.syncOnce());
    expect(slack.conversations.channels.filter((c) => c.name.startsWith(inc.channelName))).toHaveLength(1);
    expect(slack.calls.filter((c) => c.method === 'conversations.create').length).toBe(creates + 1); // the one answered name_taken
    const { rows } = await replicaA.query<{ channel_id: string }>('SELECT channel_id FROM vigil.incidents WHERE id = $1', [inc.id]);
    expect(rows[0]?.channel_id).toBe(before.id);
  });
});
