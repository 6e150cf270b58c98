import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/embedded/free-port.ts';
import { waitFor } from './wait.ts';

/**
 * A redis-server of a test's own on a free port, for what must not happen to the shared one: a
 * memory limit that evicts, a script that blocks it for seconds, a replica, exact counters no
 * other test moves. No persistence, in a directory of its own (a replica still writes the RDB it
 * receives there); stopped (and waited for), and that directory removed, by `stop()`.
 */
export interface OwnRedis {
  port: number;
  url: string;
  /** An admin connection for setting things up. */
  admin: Redis;
  stop(): Promise<void>;
}

export async function startOwnRedis(extraArgs: string[] = []): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-own-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extraArgs], {
    stdio: 'ignore',
  });
  const admin = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 0 });
  admin.on('error', () => undefined);
  await waitFor(
    async () => {
      if (admin.status !== 'ready') await admin.connect().catch(() => undefined);
      return admin.status === 'ready' && (await admin.ping().catch(() => '')) === 'PONG';
    },
    { timeoutMs: 5000, what: `redis-server on port ${port}` },
  );
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    admin,
    async stop() {
      admin.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
