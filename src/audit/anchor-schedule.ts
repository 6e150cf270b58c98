import type { Redis } from 'ioredis';
import type { Config } from '../config/load.ts';
import type { StateStore } from '../db/state.ts';
import type { Logger } from '../log.ts';
import { createSchedule } from '../schedules/schedule.ts';
import type { Runnable } from '../core/runnable.ts';
import { describeError } from '../core/errors.ts';
import { withTimeout } from '../core/timeout.ts';
import { advanceAnchor } from './anchor.ts';
import { auditKeyFrom } from './chain-hash.ts';

const EVERY = '*/30 * * * * *';
const FLUSH_MS = 3000;

/**
 * Every 30 s (one replica per tick), the chain's head is written to the anchor file, signed with
 * VIGIL_AUDIT_KEY, and logged, so the end of the chain is known outside the database. A chain
 * that no longer continues its anchor is said (once per reason) and the anchor is kept. Anchored
 * once more at shutdown.
 */
export function auditAnchorSchedule(config: Config, path: string, state: StateStore, redis: Redis, log: Logger, flush: () => Promise<void>): Runnable {
  const key = auditKeyFrom(config.env.VIGIL_AUDIT_KEY);
  let lastProblem = '';
  async function anchorNow(): Promise<void> {
    const s = await state.ready();
    if (s.kind !== 'ready') return;
    const outcome = await advanceAnchor(s.pool, path, key, new Date());
    if (outcome.kind === 'anchored') {
      lastProblem = '';
      log.info({ id: outcome.anchor.id, hash: outcome.anchor.hash, path }, 'audit: chain head anchored outside the database');
    } else if (outcome.kind === 'refused' && outcome.reason !== lastProblem) {
      lastProblem = outcome.reason;
      log.error({ path, reason: outcome.reason }, 'audit: the chain does not continue its anchor; the anchor is kept as evidence');
    }
  }
  const schedule = createSchedule({ name: 'audit-anchor', cron: EVERY, redis, keyPrefix: config.file.state.queuePrefix, log, runOnStart: true, run: anchorNow });
  return {
    name: schedule.name,
    start: () => schedule.start(),
    // And once more on the way out, so the head a stop leaves behind is anchored too.
    async stop() {
      await schedule.stop();
      // The events still being written first (bounded: Postgres may be the reason we stop).
      await withTimeout(flush(), FLUSH_MS, 'the audit writer').catch(() => undefined);
      await anchorNow().catch((err: unknown) => log.warn({ err: describeError(err) }, 'audit: could not anchor the chain head at shutdown'));
    },
  };
}
