import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CommandRun } from './core/dispatch.ts';
import type { InteractionRun } from './core/interactions.ts';

export interface Metrics {
  registry: Registry;
  recordRun(run: CommandRun): void;
  recordInteraction(run: InteractionRun): void;
}

export interface MetricsOptions {
  /**
   * prom-client's process metrics (CPU, memory, heap spaces, event-loop lag, GC): for a process
   * that serves /metrics. Off, nothing samples the event loop or observes GC.
   */
  processMetrics?: boolean;
}

/** A registry of our own (not prom-client's global) so tests and several apps in one process don't collide. */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const runs = new Counter({
    name: 'vigil_commands_total',
    help: 'Slash commands run, by command and outcome',
    labelNames: ['command', 'outcome', 'surface'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'vigil_command_duration_seconds',
    help: 'Time to answer a slash command, by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
    registers: [registry],
  });
  const interactions = new Counter({
    name: 'vigil_interactions_total',
    help: 'Button clicks and form submissions, by handler, outcome and surface',
    labelNames: ['handler', 'outcome', 'surface'] as const,
    registers: [registry],
  });
  return {
    registry,
    recordInteraction(run) {
      // An unknown handler id came from a payload: one label value keeps the label set bounded.
      const handler = run.outcome === 'stale' ? 'stale' : run.handler;
      interactions.inc({ handler, outcome: run.outcome, surface: run.invoker.surface });
    },
    recordRun(run) {
      // Unknown commands are user text: label them as one value so labels stay bounded.
      const command = run.outcome === 'unknown_command' ? 'unknown' : run.command;
      runs.inc({ command, outcome: run.outcome, surface: run.invoker.surface });
      duration.observe({ command, outcome: run.outcome }, run.durationMs / 1000);
    },
  };
}
