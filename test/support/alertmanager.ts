/**
 * A REAL Prometheus Alertmanager for end-to-end tests (Debian's `prometheus-alertmanager`,
 * installed by `.ci/services.sh`).
 *
 * `startAlertmanager()` writes a one-route, one-receiver config that sends every group to
 * `webhookUrl` (the webhook receiver under test), starts the binary on a free loopback port with
 * gossip off and fast group timings, and waits for `/-/ready`. Alerts are pushed the way
 * Prometheus pushes them: `POST /api/v2/alerts`. Every instance has its own temp dir (config +
 * storage) and is killed when the test process exits, even if a test forgot `stop()`.
 *
 * `startWebhookReceiver()` is a tiny node:http receiver that records what Alertmanager sends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../src/embedded/free-port.ts';
import { sleep } from './wait.ts';

export type Labels = Record<string, string>;

/** One alert as `POST /api/v2/alerts` takes it (timestamps: RFC 3339). */
export interface PostableAlert {
  labels: Labels;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface AlertmanagerOptions {
  /** Where the one receiver's webhook_config posts. */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer <token>` (http_config.authorization); none when omitted. */
  bearerToken?: string;
  /** Route group_by (default ['alertname']). */
  groupBy?: string[];
  /** Default 1s. */
  groupWait?: string;
  /** Default 2s. */
  groupInterval?: string;
  /** Default 1h: no repeats within a test. */
  repeatInterval?: string;
  /** webhook_configs[0].send_resolved (default true). */
  sendResolved?: boolean;
  /** webhook_configs[0].max_alerts (default 0 = unlimited); > 0 makes `truncatedAlerts` appear. */
  maxAlerts?: number;
  /**
   * Merged into the generated config: top-level keys (`global`, `inhibit_rules`, `templates`, …)
   * are set as given, except `route`, `receiver` and `webhook`, which are shallow-merged into the
   * route, the one receiver and its one webhook_config.
   */
  extraConfig?: {
    route?: Record<string, unknown>;
    receiver?: Record<string, unknown>;
    webhook?: Record<string, unknown>;
    [key: string]: unknown;
  };
  /** Extra command-line flags, e.g. ['--log.level=debug']. */
  extraArgs?: string[];
  /** How long to wait for /-/ready (default 15 s). */
  readyTimeoutMs?: number;
}

export interface Alertmanager {
  /** http://127.0.0.1:PORT (no trailing slash); also the `--web.external-url`, so `externalURL`. */
  url: string;
  port: number;
  /** The receiver's name in the config (the webhook body's `receiver`). */
  receiver: string;
  configPath: string;
  /** The config as written (YAML). */
  configYaml: string;
  /** POST /api/v2/alerts; throws unless Alertmanager answers 200. */
  pushAlerts(alerts: PostableAlert[]): Promise<void>;
  /**
   * Resolve the alerts with exactly these label sets: re-POST them with `endsAt` = now, keeping
   * the annotations and generatorURL Alertmanager has for them (Prometheus re-sends the whole
   * alert, and the newest POST's annotations win), so the resolved notification still carries its
   * annotations. `startsAt` is left out on purpose: Alertmanager keeps the earliest one, with the
   * full precision it was first given (the API lists it in milliseconds only).
   */
  resolveAlerts(labelsList: Labels[]): Promise<void>;
  /** GET /api/v2/alerts (active, silenced, inhibited and unprocessed alike). */
  listAlerts(): Promise<unknown[]>;
  /** The last lines Alertmanager logged (it logs to stderr). */
  logs(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install prometheus-alertmanager (bash .ci/services.sh)';
const NAMES = ['prometheus-alertmanager', 'alertmanager'];

/** Path of the Alertmanager binary: $ALERTMANAGER_BIN, else the first of Debian's or upstream's name on PATH. */
export function alertmanagerBinary(): string {
  const fromEnv = process.env.ALERTMANAGER_BIN;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`ALERTMANAGER_BIN=${fromEnv} is not an executable file; ${INSTALL_HINT}`);
  }
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of NAMES) {
    for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  throw new Error(`No Alertmanager binary (${NAMES.join(' or ')}) on PATH: ${INSTALL_HINT}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Build the config (a plain object; written as YAML). */
export function alertmanagerConfig(opts: AlertmanagerOptions, receiver = 'vigil'): Record<string, unknown> {
  const { route: extraRoute, receiver: extraReceiver, webhook: extraWebhook, ...extraTop } = opts.extraConfig ?? {};
  const webhook: Record<string, unknown> = {
    url: opts.webhookUrl,
    send_resolved: opts.sendResolved ?? true,
    max_alerts: opts.maxAlerts ?? 0,
    ...(opts.bearerToken !== undefined
      ? { http_config: { authorization: { type: 'Bearer', credentials: opts.bearerToken } } }
      : {}),
    ...extraWebhook,
  };
  return {
    route: {
      receiver,
      group_by: opts.groupBy ?? ['alertname'],
      group_wait: opts.groupWait ?? '1s',
      group_interval: opts.groupInterval ?? '2s',
      repeat_interval: opts.repeatInterval ?? '1h',
      ...extraRoute,
    },
    receivers: [{ name: receiver, webhook_configs: [webhook], ...extraReceiver }],
    ...extraTop,
  };
}

/** Start a real Alertmanager on a free loopback port; resolves once /-/ready answers 200. */
export async function startAlertmanager(opts: AlertmanagerOptions): Promise<Alertmanager> {
  const bin = alertmanagerBinary();
  // freePort() can race with another process taking the port before Alertmanager binds it:
  // a start that fails with "address already in use" is retried on a new port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(bin, opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error) || !/address already in use/i.test(err.message)) throw err;
    }
  }
}

async function startOnce(bin: string, opts: AlertmanagerOptions): Promise<Alertmanager> {
  const receiver = 'vigil';
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alertmanager-'));
  const configPath = join(dir, 'alertmanager.yml');
  const configYaml = stringify(alertmanagerConfig(opts, receiver));
  writeFileSync(configPath, configYaml, { mode: 0o600 }); // holds the bearer token
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  const child = spawn(
    bin,
    [
      `--config.file=${configPath}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=', // no gossip: no second port, no peers
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );

  const tail: string[] = [];
  const onOutput = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);

  let exited = false;
  let exitDescription = '';
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exited = true;
      exitDescription = `could not be started: ${err.message}`;
      resolve();
    });
  });

  // Last resorts so the child never outlives us: on a normal exit of this process ('exit'
  // handlers must be synchronous: SIGKILL and rmSync are all we can do), and, for a process that
  // dies from a signal without running 'exit' handlers, a detached shell that polls both pids and
  // SIGKILLs Alertmanager (and removes its temp dir) once this process is gone. It ends by itself
  // once Alertmanager ends.
  const watchdog = startWatchdog(child, dir);
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL');
    if (watchdog && watchdog.exitCode === null) watchdog.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, 5_000);
        try {
          await exitedPromise;
        } finally {
          clearTimeout(timer);
        }
      }
      if (watchdog && watchdog.exitCode === null) watchdog.kill('SIGKILL');
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const logs = (): string => tail.join('\n');

  try {
    await waitUntilReady(url, opts.readyTimeoutMs ?? 15_000, () => (exited ? exitDescription : undefined));
  } catch (err) {
    await stop();
    throw new Error(
      `Alertmanager (${bin}) did not become ready on ${url}: ${err instanceof Error ? err.message : String(err)}\n` +
        `--- last output ---\n${logs() || '(none)'}`,
    );
  }

  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Alertmanager ${method} ${path} answered ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };

  const listAlerts = async (): Promise<unknown[]> => {
    const list = await api('GET', '/api/v2/alerts');
    if (!Array.isArray(list)) throw new Error(`Alertmanager GET /api/v2/alerts did not answer a list: ${JSON.stringify(list)}`);
    return list;
  };

  const pushAlerts = async (alerts: PostableAlert[]): Promise<void> => {
    await api('POST', '/api/v2/alerts', alerts);
  };

  const resolveAlerts = async (labelsList: Labels[]): Promise<void> => {
    const known = (await listAlerts()) as Array<Partial<PostableAlert>>;
    const endsAt = new Date().toISOString();
    const alerts = labelsList.map((labels): PostableAlert => {
      const current = known.find((a) => a.labels !== undefined && sameLabels(a.labels, labels));
      return {
        labels,
        ...(current?.annotations ? { annotations: current.annotations } : {}),
        ...(current?.generatorURL ? { generatorURL: current.generatorURL } : {}),
        endsAt,
      };
    });
    await pushAlerts(alerts);
  };

  return { url, port, receiver, configPath, configYaml, pushAlerts, resolveAlerts, listAlerts, logs, stop };
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function startWatchdog(child: ChildProcess, dir: string): ChildProcess | undefined {
  if (child.pid === undefined) return undefined;
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'kill -0 "$1" 2>/dev/null || { kill -KILL "$2" 2>/dev/null; sleep 1; rm -rf "$3"; }; exit 0';
  const watchdog = spawn('sh', ['-c', script, 'vigil-alertmanager-watchdog', String(process.pid), String(child.pid), dir], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.on('error', () => {}); // no sh: the 'exit' handler still covers normal exits
  watchdog.unref();
  return watchdog;
}

async function waitUntilReady(url: string, timeoutMs: number, exitReason: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const reason = exitReason();
    if (reason) throw new Error(`the process ${reason}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `GET /-/ready answered ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms (${last})`);
    await sleep(50);
  }
}

/** One request the webhook receiver got. */
export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body as received. */
  raw: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: unknown;
  at: number;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT/alertmanager — the `webhookUrl` to give Alertmanager. */
  url: string;
  received: ReceivedWebhook[];
  /** Answer the next requests with this status (default 200), e.g. to see retries on 5xx. */
  respondWith(status: number): void;
  /** Wait (bounded) until some request matches; returns it. */
  waitFor(match: (r: ReceivedWebhook) => boolean, opts?: { timeoutMs?: number; what?: string }): Promise<ReceivedWebhook>;
  close(): Promise<void>;
}

/** A local webhook receiver that records every request and answers 200 (or `respondWith`). */
export async function startWebhookReceiver(path = '/alertmanager'): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  let status = 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, body, at: Date.now() });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'failing on purpose');
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const waitFor = async (
    match: (r: ReceivedWebhook) => boolean,
    opts: { timeoutMs?: number; what?: string } = {},
  ): Promise<ReceivedWebhook> => {
    const { timeoutMs = 10_000, what = 'a matching webhook' } = opts;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = received.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; received ${received.length}: ${received.map((r) => r.raw).join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        waiters.add(wake);
      });
    }
  };

  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    respondWith: (s) => {
      status = s;
    },
    waitFor,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
