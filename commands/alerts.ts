import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import type { Reply } from '../src/core/reply.ts';
import { duration, type AlertGroup } from '../src/alerts/group.ts';
import { groupTitle } from '../src/alerts/message.ts';

/** What /alerts reads: the firing groups and where their messages are. */
export interface AlertCommandDeps {
  /** Null with the reason when Vigil's state database is not there. */
  alerts: {
    firing(severity?: string): Promise<AlertGroup[]>;
    /** A link that opens the group's message (its key), or null while it is not posted. */
    messageLink(key: string): Promise<string | null>;
  } | null;
  missing: string | undefined;
  now: () => number;
}

const MAX_LINKS = 10;

export default defineCommand<{ positionals: string[] }, AlertCommandDeps>({
  name: 'alerts',
  summary: 'Alert groups firing now: severity, age, who acknowledged, link to each message',
  usage: '[severity]',
  options: {},
  args: z.object({
    positionals: z.array(z.string().regex(/^[A-Za-z][\w-]{0,30}$/, 'a severity is a word like critical or warning')).max(1, 'takes at most one severity'),
  }),
  async run(args, { deps }): Promise<Reply> {
    const alerts = requireDep(deps.alerts, "Vigil's state database (alert groups)", deps.missing);
    const severity = args.positionals[0]?.toLowerCase();
    const groups = await alerts.firing(severity);
    const now = deps.now();
    const scope = severity ? `${severity} ` : '';
    if (groups.length === 0) return { title: 'Alerts', status: 'ok', summary: `No ${scope}alerts firing.` };
    const links = await Promise.all(groups.slice(0, MAX_LINKS).map((g) => (g.messageKey ? alerts.messageLink(g.messageKey) : null)));
    return {
      title: `Alerts firing (${groups.length})`,
      status: groups.some((g) => g.severity === 'critical') ? 'fail' : 'warn',
      sections: [
        {
          heading: `${scope}alert groups`.replace(/^./, (c) => c.toUpperCase()),
          table: {
            columns: ['severity', 'alert', 'firing', 'for', 'acknowledged', 'channel'],
            rows: groups.map((g) => [
              g.severity,
              groupTitle(g),
              String(Object.values(g.view.alerts).filter((a) => a.status === 'firing').length),
              duration(now - g.firedAt),
              g.ackedBy ? `${g.ackedBy} after ${duration((g.ackedAt ?? now) - g.firedAt)}` : 'no',
              g.channel,
            ]),
            rowStatus: groups.map((g) => (g.severity === 'critical' ? 'fail' : 'warn')),
          },
        },
      ],
      links: links.flatMap((url, i) => (url ? [{ label: `Open ${groupTitle(groups[i] as AlertGroup)}`.slice(0, 75), url }] : [])),
      data: groups.map((g) => ({ group: g.groupId, severity: g.severity, title: groupTitle(g), firedAt: new Date(g.firedAt).toISOString(), ackedBy: g.ackedBy, channel: g.channel })),
    };
  },
});
