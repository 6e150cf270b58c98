/**
 * Benchmark 3: the full `/health` reply (dispatch, every probe against the real Postgres and Redis,
 * BullMQ queue counts, Block Kit rendering), run one after another so every call does its own probes.
 */
import type { Container } from '../../src/container.ts';
import { line, summarize, timeCommand, verdict } from './stats.ts';

const WARMUP = 10;
const ITERATIONS = 300;
const CONCURRENT = 50;
const TARGET_MS = 250;

export async function benchHealth(container: Container): Promise<void> {
  console.log(`\n3. Full /health reply, ${ITERATIONS} sequential runs (real Postgres and Redis)`);
  const { samples: times, title } = await timeCommand(container.commands, '/health', { warmup: WARMUP, iterations: ITERATIONS });
  await container.flushAudit();
  const s = summarize(times);
  console.log(line('dispatch /health + Block Kit', s));
  console.log(`  reply title: "${title}"; p99 ${verdict(s.p99, TARGET_MS)}`);

  // Single flight: callers arriving while a run is in flight share its snapshot.
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: CONCURRENT }, () => container.commands.dispatch('/health', '', { surface: 'cli', userId: 'bench' })));
  const wall = performance.now() - start;
  const runs = new Set(results.map((r) => r.reply.data)).size;
  await container.flushAudit();
  console.log(
    `  note: /health is single-flight — ${CONCURRENT} concurrent calls shared ${runs} probe run(s), all answered in ${wall.toFixed(1)} ms wall time; sequential runs above each pay for their own probes.`,
  );
}
