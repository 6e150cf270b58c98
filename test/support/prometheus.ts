/**
 * A REAL Prometheus for the SLO tests (Debian's `prometheus`, installed by `.ci/services.sh`): its
 * own config and data directory in a temp dir, a free loopback port, a short scrape interval, ready
 * once `/-/ready` answers. Killed when the test process exits, even if a test forgot `stop()`.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../src/embedded/free-port.ts';
import { sleep } from './wait.ts';

export interface PrometheusOptions {
  /** host:port targets of the one scrape job (`app`). */
  targets: string[];
  /** Default 1s: rate() over 20 s then has data within a few seconds. */
  scrapeInterval?: string;
  readyTimeoutMs?: number;
  /** A fixed port (a restart where the bot's PROMETHEUS_URL points); a free one by default. */
  port?: number;
}

export interface TestPrometheus {
  /** http://127.0.0.1:PORT (no trailing slash): PROMETHEUS_URL. */
  url: string;
  port: number;
  /** One instant query, for tests to wait on (e.g. until a rate has data). */
  query(expr: string): Promise<number | null>;
  logs(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install prometheus (bash .ci/services.sh)';

export function prometheusBinary(): string {
  const fromEnv = process.env.PROMETHEUS_BIN;
  const dirs = fromEnv ? [] : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const candidate of fromEnv ? [fromEnv] : dirs.map((d) => join(d, 'prometheus'))) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: try the next directory
    }
  }
  throw new Error(fromEnv ? `PROMETHEUS_BIN=${fromEnv} is not an executable file; ${INSTALL_HINT}` : `No prometheus binary on PATH: ${INSTALL_HINT}`);
}

export async function startPrometheus(opts: PrometheusOptions): Promise<TestPrometheus> {
  const bin = prometheusBinary();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(bin, opts);
    } catch (err) {
      // freePort() can race with another process taking the port first.
      if (attempt >= 3 || !(err instanceof Error) || !/address already in use/i.test(err.message)) throw err;
    }
  }
}

async function startOnce(bin: string, opts: PrometheusOptions): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  const interval = opts.scrapeInterval ?? '1s';
  writeFileSync(
    configPath,
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: [{ job_name: 'app', scrape_interval: interval, scrape_timeout: interval, static_configs: [{ targets: opts.targets }] }],
    }),
  );
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [`--config.file=${configPath}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tail: string[] = [];
  const onOutput = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) tail.push(line) > 40 && tail.shift();
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  let exited: string | null = null;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exited = `could not be started: ${err.message}`;
      resolve();
    });
  });
  const killOnExit = () => {
    if (exited === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => exited === null && child.kill('SIGKILL'), 5_000);
        await exitedPromise.finally(() => clearTimeout(timer));
      }
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const logs = () => tail.join('\n');

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (exited !== null) {
      await stop();
      throw new Error(`prometheus (${bin}) ${exited}\n--- last output ---\n${logs() || '(none)'}`);
    }
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
      async (r) => (await r.arrayBuffer(), r.status === 200),
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready on ${url}\n--- last output ---\n${logs() || '(none)'}`);
    }
    await sleep(100);
  }

  const query = async (expr: string): Promise<number | null> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data?: { result?: Array<{ value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`prometheus refused ${expr}: ${JSON.stringify(body)}`);
    const first = body.data?.result?.[0];
    return first ? Number(first.value[1]) : null;
  };
  return { url, port, query, logs, stop };
}
