import type { BoundCommand } from '../core/command.ts';
import type { InteractionHandler } from '../core/interactions.ts';
import type { Runnable } from '../core/runnable.ts';
import type { Route } from '../http/route.ts';
import type { Infrastructure } from '../infrastructure.ts';

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

/** Builds one feature from the shared infrastructure; may open what only it needs. */
export type FeatureFactory = (infra: Infrastructure) => Feature | Promise<Feature>;
