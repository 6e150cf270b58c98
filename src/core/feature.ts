import type { BoundCommand } from './command.ts';
import type { InteractionHandler } from './interactions.ts';
import type { Route } from '../http/route.ts';

/** Something that runs in the background of the bot (a BullMQ worker, a cron schedule). */
export interface Runnable {
  name: string;
  start(): Promise<void>;
  /** Stop taking new work and let what is running finish. */
  stop(): Promise<void>;
}

/**
 * What one feature (commands, alerts, actions, reports …) adds to Vigil. The composition root
 * collects these; adding a feature never edits the HTTP server, the Slack wiring or another feature.
 */
export interface Feature {
  name: string;
  commands?: readonly BoundCommand[];
  interactions?: readonly InteractionHandler[];
  routes?: readonly Route[];
  /** Started by the bot only (never by the CLI), after everything else is built. */
  workers?: readonly Runnable[];
  schedules?: readonly Runnable[];
  /** Release what the feature opened itself, after its workers and schedules stopped. */
  close?(): Promise<void>;
}
