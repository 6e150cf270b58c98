/**
 * Re-capture test/fixtures/alertmanager/*.json from the real Alertmanager:
 *   npx tsx test/support/capture-alertmanager-fixtures.ts
 * The bodies are saved as received (pretty-printed, keys in Alertmanager's order).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { startAlertmanager, startWebhookReceiver, type PostableAlert, type ReceivedWebhook, type WebhookReceiver } from './alertmanager.ts';

const TOKEN = 'vigil-test-token-3f9a';
const FIXTURES = new URL('../fixtures/alertmanager/', import.meta.url);

function save(name: string, r: ReceivedWebhook): void {
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(new URL(name, FIXTURES), `${JSON.stringify(JSON.parse(r.raw), null, 2)}\n`);
  process.stdout.write(`wrote ${name}\n`);
}

async function nth(receiver: WebhookReceiver, n: number, what: string): Promise<ReceivedWebhook> {
  await receiver.waitFor(() => receiver.received.length >= n, { timeoutMs: 15_000, what });
  const got = receiver.received[n - 1];
  if (!got) throw new Error(`no ${what}`);
  return got;
}

async function withAlertmanager(work: (am: Awaited<ReturnType<typeof startAlertmanager>>, receiver: WebhookReceiver) => Promise<void>): Promise<void> {
  const receiver = await startWebhookReceiver();
  const am = await startAlertmanager({ webhookUrl: receiver.url, bearerToken: TOKEN });
  try {
    await work(am, receiver);
  } finally {
    await am.stop();
    await receiver.close();
  }
}

// firing-one.json: one alert, sent the way Prometheus sends it (startsAt, endsAt a few evaluations ahead).
await withAlertmanager(async (am, receiver) => {
  const now = Date.now();
  await am.pushAlerts([
    {
      labels: { alertname: 'PostgresReplicationLag', severity: 'critical', instance: 'db-2:9187', team: 'platform' },
      annotations: {
        summary: 'Replica db-2 is 94 s behind the primary',
        description: 'pg_replication_lag_seconds on db-2:9187 has been above 60 s for 5 minutes.',
        runbook_url: 'https://runbooks.example.com/postgres/replication-lag',
      },
      startsAt: new Date(now - 300_000).toISOString(),
      endsAt: new Date(now + 240_000).toISOString(),
      generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=pg_replication_lag_seconds+%3E+60&g0.tab=1',
    },
  ]);
  const got = await nth(receiver, 1, 'the firing webhook');
  save('firing-one.json', got);
  process.stdout.write(`headers: ${JSON.stringify(got.headers)}\n`);
});

// firing-two.json, resolved-one-of-two.json, resolved-all.json: one group of two alerts.
await withAlertmanager(async (am, receiver) => {
  const base = { alertname: 'HighErrorRate', severity: 'warning', team: 'payments' };
  const alerts: PostableAlert[] = ['api-1:8080', 'api-2:8080'].map((instance) => ({
    labels: { ...base, instance },
    annotations: { summary: `5xx rate above 5% on ${instance}`, description: 'http_requests_total{code=~"5.."} / http_requests_total > 0.05 for 10m' },
  }));
  const [first, second] = alerts as [PostableAlert, PostableAlert];
  await am.pushAlerts(alerts);
  save('firing-two.json', await nth(receiver, 1, 'the firing webhook'));
  await am.resolveAlerts([first.labels]);
  save('resolved-one-of-two.json', await nth(receiver, 2, 'the webhook with one resolved'));
  await am.resolveAlerts([second.labels]);
  save('resolved-all.json', await nth(receiver, 3, 'the all-resolved webhook'));
});
