import type { CommandInfo } from '../src/core/command.ts';
import alerts from './alerts.ts';
import approve from './approve.ts';
import audit from './audit.ts';
import db from './db.ts';
import deny from './deny.ts';
import health from './health.ts';
import incident from './incident.ts';
import queue from './queue.ts';
import redis from './redis.ts';
import report from './report.ts';
import run from './run.ts';
import slo from './slo.ts';
import slowqueries from './slowqueries.ts';

/**
 * The one registry: every slash command Vigil answers, in the order help lists them, each typed
 * with the deps it runs against (health, queue, slowqueries, db, redis: `InspectDeps`; alerts:
 * `AlertCommandDeps`; run: `RunCommandDeps`, its options per action catalog; approve and deny: `DecideCommandDeps`; audit:
 * `AuditCommandDeps`; slo: `SloCommandDeps`; incident: `IncidentCommandDeps`; report: `ReportCommandDeps`). A feature binds the ones it serves; help, the CLI and the Slack manifest
 * list them all. A new command is a file here, an entry below, and the feature that binds it
 * (a test fails while a command is listed and never bound, or bound and not listed).
 */
export const commands = { health, queue, slowqueries, db, redis, alerts, slo, run, approve, deny, incident, audit, report } as const;

/** Every command, for help, the CLI and the Slack manifest. */
export const allCommands: readonly CommandInfo[] = Object.values(commands);
