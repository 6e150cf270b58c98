/**
 * `npm run bench`: Vigil's performance figures on this machine, printed, never asserted.
 * Loopback only; bounded loops; about a minute on two cores.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createLogger } from '../../src/log.ts';
import { createBenchEnv } from './bench-env.ts';
import { benchAckLatency } from './ack-latency.ts';
import { benchSlowQueries } from './slowqueries.ts';
import { benchHealth } from './health.ts';

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`Vigil benchmarks — node ${process.version}, ${availableParallelism()} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown'})`);
  const env = await createBenchEnv();
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-bench-'));
  let container: Container | null = null;
  try {
    console.log(`database ${env.dbName}, BullMQ prefix ${env.prefix} (${env.queueNames.length} queues with waiting jobs)`);
    await benchAckLatency(env, workDir);

    const configPath = join(workDir, 'bench.yaml');
    await writeFile(configPath, toYaml({ bullmq: { prefix: env.prefix } }));
    const config = loadConfig({ DATABASE_URL: env.dbUrl, REDIS_URL: env.redisUrl, VIGIL_CONFIG: configPath, PATH: process.env.PATH }, workDir);
    container = await createContainer(config, { log: createLogger('error'), announce: () => undefined, embedded: false, role: 'cli' });
    await benchSlowQueries(container, env.dbUrl);
    await benchHealth(container);
  } finally {
    await container?.close();
    await env.cleanup();
    await rm(workDir, { recursive: true, force: true });
  }
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
