/**
 * `npm run bench`: Vigil's performance figures on this machine, printed, never asserted.
 * Loopback only; bounded loops. The first three take about a minute on two cores, the alert
 * intake bench about half a minute, the alert storm bench about four minutes and the service bench
 * (CLI end to end, the bot's idle RSS and start-up time) about two minutes.
 *
 * Run some only: `npm run bench -- alert-intake alert-storm` (or `BENCH=health npm run bench`).
 * Names: ack-latency, slow-queries, health, alert-intake, alert-storm, action-approve, intake, queue-scaling, service, diagnosis.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createLogger } from '../../src/log.ts';
import { createBenchEnv, type BenchEnv } from './bench-env.ts';
import { benchAckLatency } from './ack-latency.ts';
import { benchSlowQueries } from './slowqueries.ts';
import { benchHealth } from './health.ts';
import { benchAlertIntake } from './alert-intake.ts';
import { benchAlertStorm } from './alert-storm.ts';
import { benchActionApprove } from './action-approve.ts';
import { benchQueueScaling } from './queue-scaling.ts';
import { benchIntake } from './intake.ts';
import { benchService } from './service.ts';
import { benchDiagnosis } from './diagnosis.ts';

const BENCHES = ['ack-latency', 'slow-queries', 'health', 'alert-intake', 'alert-storm', 'action-approve', 'intake', 'queue-scaling', 'service', 'diagnosis'] as const;
type BenchName = (typeof BENCHES)[number];

function selected(): Set<BenchName> {
  const asked = [...process.argv.slice(2), ...(process.env.BENCH ?? '').split(',')].map((s) => s.trim()).filter(Boolean);
  if (asked.length === 0) return new Set(BENCHES);
  const unknown = asked.filter((name) => !(BENCHES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; choose from ${BENCHES.join(', ')}`);
  return new Set(asked as BenchName[]);
}

async function main(): Promise<void> {
  const started = performance.now();
  const run = selected();
  console.log(`Vigil benchmarks — node ${process.version}, ${availableParallelism()} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown'})`);
  // The first three and the service bench share a database with pg_stat_statements and a BullMQ prefix with queues.
  const needsEnv = run.has('ack-latency') || run.has('slow-queries') || run.has('health') || run.has('service');
  let env: BenchEnv | null = null;
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-bench-'));
  let container: Container | null = null;
  try {
    if (needsEnv) {
      env = await createBenchEnv();
      console.log(`database ${env.dbName}, BullMQ prefix ${env.prefix} (${env.queueNames.length} queues with waiting jobs)`);
      if (run.has('ack-latency')) await benchAckLatency(env, workDir);

      if (run.has('slow-queries') || run.has('health')) {
        const configPath = join(workDir, 'bench.yaml');
        await writeFile(configPath, toYaml({ bullmq: { prefix: env.prefix } }));
        const config = loadConfig({ DATABASE_URL: env.dbUrl, REDIS_URL: env.redisUrl, VIGIL_CONFIG: configPath, PATH: process.env.PATH }, workDir);
        container = await createContainer(config, { log: createLogger('error'), announce: () => undefined, embedded: false, role: 'cli' });
        if (run.has('slow-queries')) await benchSlowQueries(container, env.dbUrl);
        if (run.has('health')) await benchHealth(container);
        await container.close();
        container = null;
      }
      if (run.has('service')) await benchService(env);
    }
    // Each alert bench has a database, Redis prefixes and a bot process of its own.
    if (run.has('alert-intake')) await benchAlertIntake();
    if (run.has('alert-storm')) await benchAlertStorm();
    if (run.has('action-approve')) await benchActionApprove();
    if (run.has('queue-scaling')) await benchQueueScaling();
    if (run.has('intake')) await benchIntake();
    if (run.has('diagnosis')) await benchDiagnosis();
  } finally {
    await container?.close();
    await env?.cleanup();
    await rm(workDir, { recursive: true, force: true });
  }
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
