import type { TimelineGroup, TimelineItem } from './timeline.ts';

/**
 * Time to acknowledge and time to resolve, each measured from the first alert (what the people
 * affected lived through) and from the declaration (how fast the incident itself was worked).
 * Null where the end is not there yet (never acknowledged, still open) or the start is missing
 * (declared without an alert). A negative span means it happened before the start, e.g. an alert
 * acknowledged before anyone declared the incident: it stays negative, the write-up says "before".
 */
export interface ResponseTimes {
  firstAlertAt: number | null;
  firstAckAt: number | null;
  declaredAt: number;
  resolvedAt: number | null;
  ackFromAlertMs: number | null;
  ackFromDeclareMs: number | null;
  resolveFromAlertMs: number | null;
  resolveFromDeclareMs: number | null;
}

export function responseTimes(o: { groups: readonly TimelineGroup[]; items: readonly TimelineItem[]; declaredAt: number; resolvedAt: number | null }): ResponseTimes {
  const fired = o.groups.map((g) => g.firedAt);
  const firstAlertAt = fired.length > 0 ? Math.min(...fired) : null;
  const acks = o.items.filter((i) => i.kind === 'alert.ack').map((i) => i.at);
  const firstAckAt = acks.length > 0 ? Math.min(...acks) : null;
  const span = (from: number | null, to: number | null) => (from === null || to === null ? null : to - from);
  return {
    firstAlertAt,
    firstAckAt,
    declaredAt: o.declaredAt,
    resolvedAt: o.resolvedAt,
    ackFromAlertMs: span(firstAlertAt, firstAckAt),
    ackFromDeclareMs: span(o.declaredAt, firstAckAt),
    resolveFromAlertMs: span(firstAlertAt, o.resolvedAt),
    resolveFromDeclareMs: span(o.declaredAt, o.resolvedAt),
  };
}
