import { selectRows, type Queryable } from '../../db/queryable.ts';
import { STATE_SCHEMA } from '../../db/migrate.ts';
import type { ReportWindow } from '../window.ts';

const GROUPS = `${STATE_SCHEMA}.alert_groups`;
const NOTIFICATIONS = `${STATE_SCHEMA}.alert_notifications`;
// `/alerts test` checks the pipeline; its alerts are not incidents and stay out of every figure.
const REAL = `NOT (g.state->'commonLabels' ? 'vigil_test')`;
// Groups that fired within the window (a group firing again after its cooldown starts a new epoch).
const IN_WINDOW = `g.fired_at >= $1 AND g.fired_at < $2 AND ${REAL}`;

export interface SeverityCounts {
  severity: string;
  fired: number;
  firingNow: number;
  unacked: number;
  flapping: number;
}

export function countsBySeverity(db: Queryable, w: ReportWindow): Promise<SeverityCounts[]> {
  return selectRows<SeverityCounts>(
    db,
    `SELECT g.severity, count(*)::int AS "fired", count(*) FILTER (WHERE g.status = 'firing')::int AS "firingNow",
            count(*) FILTER (WHERE g.acked_at IS NULL)::int AS "unacked", count(*) FILTER (WHERE g.flaps > 0)::int AS "flapping"
       FROM ${GROUPS} g WHERE ${IN_WINDOW} GROUP BY g.severity ORDER BY count(*) DESC`,
    [new Date(w.start), new Date(w.end)],
  );
}

export interface GroupRow {
  groupId: string;
  alertname: string;
  severity: string;
  status: 'firing' | 'resolved';
  firedAt: Date;
  /** Notifications received for the group within the window: how noisy it was. */
  notifications: number;
  flaps: number;
  ackedBy: string | null;
  ackSeconds: number | null;
  resolveSeconds: number | null;
  /** How many groups matched in all (the same on every row): the rest are counted, not listed. */
  total: number;
}

const GROUP_COLUMNS = `g.group_id AS "groupId", coalesce(g.state->'commonLabels'->>'alertname', g.group_key) AS alertname, g.severity, g.status,
  g.fired_at AS "firedAt", g.flaps, g.acked_by AS "ackedBy",
  extract(epoch FROM g.acked_at - g.fired_at)::float8 AS "ackSeconds",
  extract(epoch FROM g.resolved_at - g.fired_at)::float8 AS "resolveSeconds",
  count(*) OVER ()::int AS total`;

/** Groups that fired in the window, noisiest first (notifications received, then flaps). */
export function noisiestGroups(db: Queryable, w: ReportWindow, limit: number): Promise<GroupRow[]> {
  return selectRows<GroupRow>(
    db,
    `SELECT ${GROUP_COLUMNS},
            (SELECT count(*) FROM ${NOTIFICATIONS} n WHERE n.group_id = g.group_id AND n.received_at >= $1 AND n.received_at < $2)::int AS notifications
       FROM ${GROUPS} g WHERE ${IN_WINDOW}
      ORDER BY notifications DESC, g.flaps DESC, g.fired_at DESC LIMIT $3`,
    [new Date(w.start), new Date(w.end), limit],
  );
}

/** Groups of the window nobody acknowledged, still firing first. */
export function unacknowledgedGroups(db: Queryable, w: ReportWindow, limit: number): Promise<GroupRow[]> {
  return selectRows<GroupRow>(
    db,
    `SELECT ${GROUP_COLUMNS}, 0 AS notifications
       FROM ${GROUPS} g WHERE ${IN_WINDOW} AND g.acked_at IS NULL
      ORDER BY (g.status = 'firing') DESC, g.fired_at DESC LIMIT $3`,
    [new Date(w.start), new Date(w.end), limit],
  );
}

export interface ResponseRow {
  severity: string;
  groups: number;
  acked: number;
  resolved: number;
  /** Mean time to acknowledge: acked_at − fired_at over the acknowledged groups, in seconds. */
  mttaSeconds: number | null;
  /** Mean time to resolve: resolved_at − fired_at over the resolved groups, in seconds. */
  mttrSeconds: number | null;
  maxAckSeconds: number | null;
  maxResolveSeconds: number | null;
}

export function responseTimes(db: Queryable, w: ReportWindow): Promise<ResponseRow[]> {
  return selectRows<ResponseRow>(
    db,
    `SELECT g.severity, count(*)::int AS groups, count(g.acked_at)::int AS acked,
            count(g.resolved_at) FILTER (WHERE g.status = 'resolved')::int AS resolved,
            avg(extract(epoch FROM g.acked_at - g.fired_at))::float8 AS "mttaSeconds",
            (avg(extract(epoch FROM g.resolved_at - g.fired_at)) FILTER (WHERE g.status = 'resolved'))::float8 AS "mttrSeconds",
            max(extract(epoch FROM g.acked_at - g.fired_at))::float8 AS "maxAckSeconds",
            (max(extract(epoch FROM g.resolved_at - g.fired_at)) FILTER (WHERE g.status = 'resolved'))::float8 AS "maxResolveSeconds"
       FROM ${GROUPS} g WHERE ${IN_WINDOW} GROUP BY g.severity`,
    [new Date(w.start), new Date(w.end)],
  );
}
