/**
 * The REAL Alertmanager behind test/support/alertmanager.ts: it starts, takes alerts over
 * /api/v2/alerts and posts version-4 webhooks with the bearer token to a local receiver, firing
 * and then resolved.
 * It also checks the shape of test/fixtures/alertmanager/*.json, captured from the same
 * Alertmanager by test/support/capture-alertmanager-fixtures.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startAlertmanager,
  startWebhookReceiver,
  type Alertmanager,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../support/alertmanager.ts';

const TOKEN = 'vigil-test-token-3f9a';
const FIXTURES = new URL('../fixtures/alertmanager/', import.meta.url);

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}
interface WebhookBody {
  version: string;
  status: string;
  receiver: string;
  groupKey: string;
  truncatedAlerts: number;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

const body = (r: ReceivedWebhook): WebhookBody => r.body as WebhookBody;

describe('a real Alertmanager (test/support/alertmanager.ts)', () => {
  let receiver: WebhookReceiver;
  let am: Alertmanager;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    am = await startAlertmanager({ webhookUrl: receiver.url, bearerToken: TOKEN });
  });

  afterAll(async () => {
    await am?.stop();
    await receiver?.close();
  });

  const labels = { alertname: 'VigilSupportTest', severity: 'warning', instance: 'db-1:9187', team: 'platform' };

  it('posts a firing webhook with the bearer token, then a resolved one', async () => {
    await am.pushAlerts([{ labels, annotations: { summary: 'support test' } }]);
    expect(await am.listAlerts()).toHaveLength(1);

    const firing = await receiver.waitFor((r) => body(r)?.status === 'firing', { timeoutMs: 15_000, what: 'the firing webhook' });
    expect(firing.method).toBe('POST');
    expect(firing.path).toBe('/alertmanager');
    expect(firing.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(firing.headers['content-type']).toBe('application/json');
    const fired = body(firing);
    expect(fired).toMatchObject({ version: '4', status: 'firing', receiver: am.receiver, groupLabels: { alertname: 'VigilSupportTest' } });
    expect(fired.alerts).toHaveLength(1);
    const [alert] = fired.alerts;
    expect(alert).toMatchObject({ status: 'firing', labels, annotations: { summary: 'support test' } });
    expect(alert?.fingerprint).toMatch(/^[0-9a-f]{16}$/);

    await am.resolveAlerts([labels]);
    const resolved = await receiver.waitFor((r) => body(r)?.status === 'resolved', { timeoutMs: 15_000, what: 'the resolved webhook' });
    expect(resolved.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(body(resolved)).toMatchObject({ version: '4', status: 'resolved', groupKey: fired.groupKey });
    expect(body(resolved).alerts).toMatchObject([
      { status: 'resolved', labels, annotations: { summary: 'support test' }, fingerprint: alert?.fingerprint, startsAt: alert?.startsAt },
    ]);
    expect(receiver.received).toHaveLength(2);
  }, 40_000);
});

// The fixtures come from scripts/capture-alertmanager-fixtures.ts (see their README).
describe('the captured Alertmanager webhook fixtures', () => {
  const read = (name: string): WebhookBody => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as WebhookBody;
  const statuses = (b: WebhookBody): string[] => b.alerts.map((a) => a.status);

  it('have the statuses their names promise', () => {
    expect([read('firing-one.json').status, statuses(read('firing-one.json'))]).toEqual(['firing', ['firing']]);
    expect([read('firing-two.json').status, statuses(read('firing-two.json'))]).toEqual(['firing', ['firing', 'firing']]);
    // A group is "firing" while any of its alerts fires.
    expect([read('resolved-one-of-two.json').status, statuses(read('resolved-one-of-two.json')).sort()]).toEqual(['firing', ['firing', 'resolved']]);
    expect(read('resolved-all.json').status).toBe('resolved');
    expect(statuses(read('resolved-all.json')).every((s) => s === 'resolved')).toBe(true);
    for (const name of ['firing-one.json', 'firing-two.json', 'resolved-one-of-two.json', 'resolved-all.json']) {
      expect(read(name)).toMatchObject({ version: '4', truncatedAlerts: 0 });
    }
  });
});
