import { z } from 'zod';
import { defineInspectCommand } from './deps.ts';
import { worstStatus, type Reply, type Section, type Status, type Suggestion } from '../src/core/reply.ts';
import type { HealthSnapshot } from '../src/probes/health.ts';
import type { EvaluatedReading } from '../src/probes/reading.ts';
import type { ProbeRegistration } from '../src/probes/registration.ts';
import { PROBES, readingDetails, readingLine, registrationFor } from '../src/probes/probe-list.ts';

const OVERALL: Record<Status, string> = { ok: 'healthy', warn: 'degraded', fail: 'unhealthy', info: 'healthy' };
const MAX_SUGGESTIONS = 5;
/** /health may answer from a snapshot this young (its age is shown), so a burst of it waits for no probe. */
export const HEALTH_MAX_AGE_MS = 2000;

export default defineInspectCommand({
  name: 'health',
  summary: 'Postgres, Redis, BullMQ queues, HTTP targets and backups at a glance',
  usage: '[--verbose]',
  options: { verbose: { type: 'boolean', short: 'v' } },
  args: z.object({ verbose: z.boolean().default(false), positionals: z.array(z.string()).max(0, 'takes no arguments') }),
  async run(args, { deps }): Promise<Reply> {
    const snapshot = await deps.health.recent(HEALTH_MAX_AGE_MS);
    const age = deps.now() - snapshot.checkedAt.getTime();
    const when = age >= 100 ? `, ${(age / 1000).toFixed(1)} s ago` : '';
    // A burst of /health within one tenth of a second reads the same text: one reply, built once.
    let slots = built.get(snapshot);
    if (!slots) built.set(snapshot, (slots = {}));
    const slot = args.verbose ? 'verbose' : 'plain';
    let entry = slots[slot];
    if (entry?.when !== when) {
      entry = { when, reply: Object.freeze(healthReply(snapshot, when, args.verbose)) };
      slots[slot] = entry;
    }
    return entry.reply;
  },
});

/**
 * The newest reply built from each snapshot, per verbosity, with the age text it shows. Frozen:
 * the same object goes to everyone asking within that tenth of a second, and renderers may reuse
 * what they make of it. Keyed weakly: a snapshot replaced by a fresher one takes its replies along.
 */
const built = new WeakMap<HealthSnapshot, { plain?: { when: string; reply: Reply }; verbose?: { when: string; reply: Reply } }>();

function healthReply(snapshot: HealthSnapshot, when: string, verbose: boolean): Reply {
  // Grouped by the registration that took each reading, in registry order.
  const sections = PROBES.flatMap((probe) =>
    probeSections(probe, snapshot.checks.filter((c) => c.kind === probe.kind), verbose),
  );
  const failing = snapshot.checks.filter((c) => c.status !== 'ok');
  const suggestions = failing.flatMap(followUp).slice(0, MAX_SUGGESTIONS);
  return {
    title: `Health: ${OVERALL[snapshot.status]}`,
    status: snapshot.status,
    summary:
      failing.length === 0
        ? `All ${snapshot.checks.length} checks passed in ${snapshot.durationMs} ms${when}.`
        : `Needs attention: ${failing.map((c) => c.name).join(', ')} (checked in ${snapshot.durationMs} ms${when}).`,
    sections,
    data: snapshot,
    ...(suggestions.length > 0 ? { suggestions } : {}),
  };
}

/** A one-target probe reads as a sentence; a many-target probe as a table with a row per target. */
function probeSections(probe: ProbeRegistration, readings: EvaluatedReading[], verbose: boolean): Section[] {
  const [only] = readings;
  if (!only) return [];
  if (probe.layout === 'line' && readings.length === 1) {
    const fields = verbose ? readingDetails(only) : [];
    return [
      {
        heading: probe.heading,
        status: only.status,
        text: `${readingLine(only)} (${only.durationMs} ms)`,
        ...(fields.length > 0 ? { fields } : {}),
      },
    ];
  }
  const table: Section = {
    heading: probe.heading,
    status: worstStatus(readings.map((r) => r.status)),
    table: {
      columns: ['name', 'state', 'ms'],
      rows: readings.map((r) => [r.name, readingLine(r), String(r.durationMs)]),
      rowStatus: readings.map((r) => r.status),
    },
  };
  if (!verbose) return [table];
  const perTarget = readings.flatMap((r) => {
    const fields = readingDetails(r);
    return fields.length > 0 ? [{ heading: r.name, status: r.status, fields }] : [];
  });
  return [table, ...perTarget];
}

function followUp(reading: EvaluatedReading): Suggestion[] {
  const suggestion = registrationFor(reading.kind)?.followUp?.(reading);
  return suggestion ? [suggestion] : [];
}
