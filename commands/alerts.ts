import { z } from 'zod';
import { defineCommand, type Invoker } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import { AppError } from '../src/core/errors.ts';
import type { Reply, RichText } from '../src/core/reply.ts';
import { duration, type AlertGroup } from '../src/alerts/group.ts';
import { groupTitle } from '../src/alerts/message.ts';
import type { TestAlertSent } from '../src/alerts/test-alert.ts';

/** What /alerts reads: the firing groups and where their messages are; and how to send a test alert. */
export interface AlertCommandDeps {
  /** Null with the reason when Vigil's state database is not there. */
  alerts: {
    firing(severity?: string): Promise<AlertGroup[]>;
    /** The severities Vigil knows (config, the known ranking, any firing now), most severe first. */
    severities(): Promise<string[]>;
    /** A link that opens the group's message (its key), or null while it is not posted. */
    messageLink(key: string): Promise<string | null>;
    /** Store a test alert for the processor; null without an `alerts:` section. */
    sendTest: ((severity: string, from: string) => Promise<TestAlertSent>) | null;
    /** Why this process posts nothing (a bot without Slack), or null (it posts, or it is the CLI). */
    notPosted: string | null;
  } | null;
  missing: string | undefined;
  now: () => number;
}

type AlertsArgs = { test: false; severity?: string } | { test: true; severity: string };

const MAX_LINKS = 10;
const MAX_ACK_NOTES = 10;
const severityWord = z
  .string()
  .regex(/^[A-Za-z][\w-]{0,30}$/, 'a severity is a word like critical or warning')
  .transform((s) => s.toLowerCase());

// `test` is a word of its own: `/alerts test` alone asks for its severity rather than listing a severity "test".
const alertsArgs = z.object({ positionals: z.array(z.string()) }).transform(({ positionals }, ctx): AlertsArgs => {
  const problem = (message: string) => {
    ctx.addIssue({ code: 'custom', path: ['positionals'], message });
    return z.NEVER;
  };
  const isTest = positionals[0]?.toLowerCase() === 'test';
  const words = isTest ? positionals.slice(1) : positionals;
  if (isTest && words.length === 0) return problem('test needs a severity, e.g. test warning');
  if (words.length > 1) return problem(isTest ? 'test takes one severity' : 'takes at most one severity, or test <severity>');
  if (words[0] === undefined) return { test: false };
  const severity = severityWord.safeParse(words[0]);
  if (!severity.success) return problem(severity.error.issues[0]?.message ?? 'not a severity');
  return isTest ? { test: true, severity: severity.data } : { test: false, severity: severity.data };
});

export default defineCommand<AlertsArgs, AlertCommandDeps>({
  name: 'alerts',
  summary: 'Alert groups firing now, most severe first, who acknowledged; test <severity> sends a test alert',
  usage: '[severity] | test <severity>',
  options: {},
  args: alertsArgs,
  async run(args, { deps, invoker }): Promise<Reply> {
    const alerts = requireDep(deps.alerts, "Vigil's state database (alert groups)", deps.missing);
    if (args.severity !== undefined) {
      const known = await alerts.severities();
      if (!known.includes(args.severity)) throw new AppError('bad_args', `Vigil knows no severity "${args.severity}"; it knows ${known.join(', ')}`);
    }
    if (args.test) {
      const send = requireDep(alerts.sendTest, 'Sending a test alert', 'Vigil has no `alerts:` section in its configuration');
      return testReply(await send(args.severity, invoker.userName ?? invoker.userId), args.severity, invoker, alerts.notPosted);
    }
    const severity = args.severity;
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
              g.ackedBy ? `after ${duration((g.ackedAt ?? now) - g.firedAt)}` : g.silence && g.silence.endsAt > now ? 'silenced' : 'no',
              g.channel,
            ]),
            rowStatus: groups.map((g) => (g.severity === 'critical' ? 'fail' : 'warn')),
          },
        },
      ],
      // Who acknowledged, as mentions (a table cell cannot hold one).
      notes: groups
        .filter((g) => g.ackedBy !== null)
        .slice(0, MAX_ACK_NOTES)
        .map((g): RichText => [`${groupTitle(g)}: acknowledged by `, { user: g.ackedBy ?? '' }, '.']),
      links: links.flatMap((url, i) => (url ? [{ label: `Open ${groupTitle(groups[i] as AlertGroup)}`.slice(0, 75), url }] : [])),
      data: groups.map((g) => ({ group: g.groupId, severity: g.severity, title: groupTitle(g), firedAt: new Date(g.firedAt).toISOString(), ackedBy: g.ackedBy, channel: g.channel })),
    };
  },
});

/** Where the test alert went, and when it resolves: only to whoever asked. */
function testReply(sent: TestAlertSent, severity: string, invoker: Invoker, notPosted: string | null): Reply {
  const resolves = `It resolves by itself in ${sent.resolvesIn}.`;
  const where = { channel: sent.channel };
  const summary: RichText =
    invoker.surface === 'cli'
      ? [`Test ${severity} alert stored for `, where, `: the running Vigil bot posts it within a few seconds. ${resolves}`]
      : notPosted
        ? [`Test ${severity} alert tracked for `, where, ` but not posted: ${notPosted}. ${resolves}`]
        : [`Test ${severity} alert sent to `, where, `. ${resolves}`];
  return {
    title: 'Test alert',
    status: 'ok',
    summary,
    notes: [`Nothing there? Check that ${invoker.surface === 'cli' ? 'the bot is running and' : 'Vigil'} is invited to the channel (see docs/alerts.md).`],
    visibility: 'private',
    data: { group: sent.groupId, severity, channel: sent.channel, resolveAfterMs: sent.resolveAfterMs },
  };
}
