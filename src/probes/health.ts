import { runCheck, type CheckResult } from './check.ts';
import { probePostgres } from './postgres.ts';
import { probeRedis } from './redis.ts';
import { probeHttp, type HttpTarget } from './http.ts';
import { queueStatus, type QueueInspector, type QueueThresholds } from './queues.ts';
import type { Queryable } from './queryable.ts';
import type { Redis } from 'ioredis';
import { worstStatus, type Status } from '../core/reply.ts';
import { elapsedMs } from '../core/timeout.ts';

export interface HealthSnapshot {
  status: Status;
  durationMs: number;
  checkedAt: Date;
  checks: CheckResult[];
}

export interface HealthService {
  /** Run every check concurrently; callers arriving while a run is in flight share it. */
  check(): Promise<HealthSnapshot>;
}

export interface HealthDeps {
  db: Queryable | null;
  redis: Redis | null;
  queues: QueueInspector | null;
  thresholdsFor: (queue: string) => QueueThresholds;
  httpTargets: HttpTarget[];
  /** Per-check budget; the whole snapshot finishes within about this long. */
  timeoutMs: number;
  /** Why a dependency is absent, shown instead of a check result. */
  missing: { postgres?: string; redis?: string };
}

export function createHealthService(deps: HealthDeps): HealthService {
  let inFlight: Promise<HealthSnapshot> | null = null;

  async function snapshot(): Promise<HealthSnapshot> {
    const start = performance.now();
    const groups = await Promise.all([
      postgresCheck(deps),
      redisCheck(deps),
      queueChecks(deps),
      ...deps.httpTargets.map((t) => runCheck(t.name, 'http', deps.timeoutMs, () => probeHttp(t))),
    ]);
    const checks = groups.flat();
    return {
      status: worstStatus(checks.map((c) => c.status)),
      durationMs: elapsedMs(start),
      checkedAt: new Date(),
      checks,
    };
  }

  return {
    check() {
      // Single flight: 50 people typing /health during an incident cost one round of probes.
      inFlight ??= snapshot().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
  };
}

function unavailable(name: string, kind: CheckResult['kind'], why: string): CheckResult {
  return { name, kind, status: 'fail', durationMs: 0, summary: why, details: [] };
}

function postgresCheck(deps: HealthDeps): Promise<CheckResult> {
  const db = deps.db;
  if (!db) return Promise.resolve(unavailable('Postgres', 'postgres', deps.missing.postgres ?? 'not configured'));
  return runCheck('Postgres', 'postgres', deps.timeoutMs, () => probePostgres(db));
}

function redisCheck(deps: HealthDeps): Promise<CheckResult> {
  const redis = deps.redis;
  if (!redis) return Promise.resolve(unavailable('Redis', 'redis', deps.missing.redis ?? 'not configured'));
  return runCheck('Redis', 'redis', deps.timeoutMs, () => probeRedis(redis));
}

/**
 * One result per queue found, or one failing result when the queues cannot be listed. Listing and
 * counting share one budget, so the queue checks finish as soon as the others.
 */
async function queueChecks(deps: HealthDeps): Promise<CheckResult[]> {
  const inspector = deps.queues;
  if (!inspector) return [];
  let names: string[] = [];
  const listing = await runCheck('BullMQ queues', 'queue', deps.timeoutMs, async () => {
    names = await inspector.discover();
    return { status: 'ok', summary: `${names.length} queues found` };
  });
  if (listing.status === 'fail') return [listing];
  const remainingMs = Math.max(100, deps.timeoutMs - listing.durationMs);
  return Promise.all(
    names.map((name) =>
      runCheck(`queue ${name}`, 'queue', remainingMs, async () => {
        const c = await inspector.counts(name);
        const paused = c.paused ? ' · PAUSED' : '';
        return {
          status: queueStatus(c, deps.thresholdsFor(name)),
          summary: `${c.waiting} waiting · ${c.active} active · ${c.failed} failed · ${c.delayed} delayed${paused}`,
        };
      }),
    ),
  );
}
