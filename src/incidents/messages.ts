import type { ChannelMessage } from '../core/channel-message.ts';
import type { Link, RichText } from '../core/reply.ts';
import { groupTitle } from '../alerts/message.ts';
import type { AlertGroup } from '../alerts/group.ts';
import type { Incident } from './store.ts';
import type { TimelineItem } from './timeline.ts';

/** Outbox keys: each message of an incident once, however often a worker retries. */
export const incidentKeys = {
  opening: (id: number) => `incident:${id}:open`,
  announce: (id: number) => `incident:${id}:announce`,
  alertReply: (id: number, groupId: string, epoch: number) => `incident:${id}:alert:${groupId}:${epoch}`,
  item: (id: number, itemKey: string) => `incident:${id}:item:${itemKey}`,
  announceItem: (id: number, itemKey: string) => `incident:${id}:announce:${itemKey}`,
  writeup: (id: number) => `incident:${id}:writeup`,
};

/** What people type in the incident's channel, shown where they will look for it. */
export const NEXT_STEPS = [
  '/incident update <text>: a status update, here and in the announcement thread',
  '/incident lead @someone · /incident severity sev1|sev2|sev3',
  '/incident link: attach another firing alert group · /incident timeline: what happened so far',
  '/incident resolve <summary>: close it with the write-up (timeline, time to acknowledge and resolve)',
];

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** The channel's first message: what it is about, who leads, the alert groups as they are now, and what to do. */
export function openingMessage(inc: Incident, groups: readonly AlertGroup[], links: readonly Link[], now: number): ChannelMessage {
  return {
    reply: {
      title: `🚨 Incident ${inc.id}: ${inc.title}`.slice(0, 150),
      status: inc.severity === 'sev1' ? 'fail' : 'warn',
      summary: [`${inc.severity.toUpperCase()} · lead `, { user: inc.lead }, ' · declared by ', { user: inc.declaredBy }, ` at ${clock(inc.declaredAt)} UTC`],
      sections:
        groups.length === 0
          ? [{ heading: 'Alert groups', text: 'None linked yet: /incident link attaches one that fires.' }]
          : [
              {
                heading: 'Alert groups',
                table: {
                  columns: ['alert', 'severity', 'state', 'since', 'acknowledged'],
                  rows: groups.map((g) => [groupTitle(g), g.severity, g.status, `${clock(g.firedAt)} UTC`, g.ackedBy ? `by @${g.ackedBy}` : 'no']),
                  rowStatus: groups.map((g) => (g.status === 'resolved' ? 'ok' : 'fail')),
                },
              },
            ],
      notes: ['What to do next:', ...NEXT_STEPS, `Shown at ${clock(now)} UTC; changes to these alerts follow below as they happen.`],
      links: [...links],
      visibility: 'channel',
    },
  };
}

export function announcementMessage(inc: Incident): ChannelMessage {
  return { text: [`🚨 Incident ${inc.id} declared (${inc.severity}): ${inc.title} · `, { channel: inc.channelId ?? '' }, ' · lead ', { user: inc.lead }] };
}

/** The thread reply under an alert group's message: where its incident is worked. */
export function alertThreadMessage(inc: Incident): ChannelMessage {
  return { text: [`🚨 Incident ${inc.id} (${inc.severity}) is worked in `, { channel: inc.channelId ?? '' }, ': join there.'] };
}

/** One timeline item as a line in the channel (and, for updates and the resolution, the announcement thread). */
export function itemMessage(item: TimelineItem): ChannelMessage {
  const text: RichText = typeof item.text === 'string' ? [item.text] : item.text;
  return { text: [`${clock(item.at)} UTC · `, ...text] };
}
