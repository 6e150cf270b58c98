import { selectRows, type Queryable } from '../../db/queryable.ts';
import { STATE_SCHEMA } from '../../db/migrate.ts';
import { MAX_ROWS, moreText, type ReportSection } from '../section.ts';

const ACTIONS = `${STATE_SCHEMA}.action_requests`;
const SILENCES = `${STATE_SCHEMA}.alert_silences`;

interface ActionRow {
  action: string;
  requested: number;
  ran: number;
  succeeded: number;
  failed: number;
  refused: number;
  total: number;
}

interface WhoRow {
  who: string;
  requested: number;
  total: number;
}

/**
 * Actions of the window: requests per action (run, failed, denied or expired) and by whom. Read
 * from `vigil.action_requests`, whose state every step moves forward.
 */
export function actionsSection(db: () => Promise<Queryable>): ReportSection {
  return {
    id: 'actions',
    async collect({ window }) {
      const pool = await db();
      const range = [new Date(window.start), new Date(window.end)];
      const byAction = await selectRows<ActionRow>(
        pool,
        `SELECT action, count(*)::int AS requested,
                count(*) FILTER (WHERE state IN ('running', 'succeeded', 'failed', 'interrupted'))::int AS ran,
                count(*) FILTER (WHERE state = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE state IN ('failed', 'interrupted'))::int AS failed,
                count(*) FILTER (WHERE state IN ('denied', 'expired'))::int AS refused,
                count(*) OVER ()::int AS total
           FROM ${ACTIONS} WHERE created_at >= $1 AND created_at < $2
          GROUP BY action ORDER BY count(*) FILTER (WHERE state IN ('failed', 'interrupted')) DESC, count(*) DESC, action LIMIT $3`,
        [...range, MAX_ROWS],
      );
      const byWho = await selectRows<WhoRow>(
        pool,
        `SELECT coalesce(max(requested_by_name), requested_by) AS who, count(*)::int AS requested, count(*) OVER ()::int AS total
           FROM ${ACTIONS} WHERE created_at >= $1 AND created_at < $2
          GROUP BY requested_by ORDER BY count(*) DESC, requested_by LIMIT 5`,
        range,
      );
      const sum = (k: keyof ActionRow) => byAction.reduce((n, r) => n + (r[k] as number), 0);
      const totals = { requested: sum('requested'), ran: sum('ran'), succeeded: sum('succeeded'), failed: sum('failed'), deniedOrExpired: sum('refused') };
      const data = { ...totals, byAction: byAction.map(({ total: _t, refused, ...r }) => ({ ...r, deniedOrExpired: refused })), byRequester: byWho.map((w) => ({ who: w.who, requested: w.requested })) };
      if (byAction.length === 0) return { sections: [{ heading: 'Actions', status: 'info', text: 'No action was requested in this window.' }], data };
      const whoMore = moreText(byWho[0]?.total ?? 0, byWho.length, 'people');
      return {
        sections: [
          {
            heading: `Actions: ${totals.requested} requested, ${totals.ran} ran, ${totals.failed} failed`,
            status: totals.failed > 0 ? 'warn' : 'info',
            text: [`Requested by ${byWho.map((w) => `${w.who} (${w.requested})`).join(', ')}${whoMore ? `, ${whoMore}` : ''}.`, moreText(byAction[0]?.total ?? 0, byAction.length, 'actions')].filter(Boolean).join(' '),
            table: {
              columns: ['action', 'requested', 'ran', 'succeeded', 'failed', 'denied/expired'],
              rows: byAction.map((r) => [r.action, String(r.requested), String(r.ran), String(r.succeeded), String(r.failed), String(r.refused)]),
              rowStatus: byAction.map((r) => (r.failed > 0 ? 'warn' : 'ok')),
            },
          },
        ],
        data,
      };
    },
  };
}

/**
 * Silences made in the window: Vigil's own (for its rules' alerts) and Alertmanager's, made through
 * the catalog's silence actions (`silenceActions`: the names of those whose built-in is
 * alertmanager.silence) and run successfully.
 */
export function silencesSection(db: () => Promise<Queryable>, silenceActions: readonly string[]): ReportSection {
  return {
    id: 'silences',
    async collect({ window }) {
      const pool = await db();
      const rows = await selectRows<{ who: string; n: number }>(
        pool,
        `SELECT who, count(*)::int AS n FROM (
           SELECT created_by AS who FROM ${SILENCES} WHERE starts_at >= $1 AND starts_at < $2
           UNION ALL
           SELECT coalesce(requested_by_name, requested_by) FROM ${ACTIONS}
            WHERE action = ANY($3) AND state = 'succeeded' AND finished_at >= $1 AND finished_at < $2
         ) s GROUP BY who ORDER BY count(*) DESC, who`,
        [new Date(window.start), new Date(window.end), [...silenceActions]],
      );
      const total = rows.reduce((n, r) => n + r.n, 0);
      const data = { created: total, byWho: rows.slice(0, MAX_ROWS).map((r) => ({ who: r.who, created: r.n })) };
      if (total === 0) return { sections: [], data };
      const shown = rows.slice(0, 5);
      const more = moreText(rows.length, shown.length, 'people');
      return { sections: [{ heading: `Silences: ${total} created`, status: 'info', text: `By ${shown.map((r) => `${r.who} (${r.n})`).join(', ')}${more ? `, ${more}` : ''}.` }], data };
    },
  };
}
