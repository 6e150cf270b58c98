import type pg from 'pg';
import type { Queryable } from '../../db/queryable.ts';
import type { QueueInspector } from '../../probes/queue-inspector.ts';
import type { ReportSection } from '../section.ts';
import { actionsSection, silencesSection } from './activity.ts';
import { alertsSection } from './alerts.ts';
import { backupsSection, healthSection } from './health.ts';
import { incidentsSection } from './incidents.ts';
import { queuesSection } from './queues.ts';
import { responseTimesSection } from './response-times.ts';
import { statementsSection } from './statements.ts';

export interface DefaultSectionDeps {
  stateDb: () => Promise<pg.Pool>;
  /** The read-only pool on the inspected database (pg_stat_statements); null without one. */
  probeDb: Queryable | null;
  queues: QueueInspector | null;
  /** Catalog actions whose built-in is alertmanager.silence. */
  silenceActions: readonly string[];
}

/** The built-in parts of every report, in the order they are shown. */
export function defaultSections(d: DefaultSectionDeps): ReportSection[] {
  return [
    healthSection(),
    alertsSection(d.stateDb),
    responseTimesSection(d.stateDb),
    silencesSection(d.stateDb, d.silenceActions),
    incidentsSection(d.stateDb),
    actionsSection(d.stateDb),
    queuesSection(d.queues),
    statementsSection(d.probeDb),
    backupsSection(),
  ];
}
