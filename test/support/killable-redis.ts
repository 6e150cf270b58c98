import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../src/embedded/free-port.ts';
import { waitFor } from './wait.ts';

/**
 * A redis-server of a test's own that the test kills (SIGKILL) and starts again on the same port
 * with nothing saved: a Redis restart without persistence, or a failover that lost writes, as the
 * bot sees it. Nothing is written outside `dir`.
 */
export interface KillableRedis {
  port: number;
  url: string;
  /** Start (again) on the same port, empty; resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL, and wait for it to be gone. Safe when it is not running. */
  kill(): Promise<void>;
}

export async function killableRedis(dir: string): Promise<KillableRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { cwd: dir, stdio: 'ignore' });
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined); // refused until it is up: the ping says so
      await waitFor(async () => (await probe.connect().then(() => probe.ping(), () => null)) === 'PONG', { timeoutMs: 10_000, what: 'redis-server up' });
      probe.disconnect();
    },
    async kill() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
  };
}
