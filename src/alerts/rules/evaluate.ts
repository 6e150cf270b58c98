import type { AlertRule } from '../../config/file.ts';
import type { EvaluatedReading } from '../../probes/reading.ts';
import { registrationFor } from '../../probes/probe-list.ts';
import { fingerprintOf } from '../alertmanager.ts';
import type { AlertInstance, Notification } from '../notification.ts';
import { ruleGroupKey } from './rule-group-key.ts';


/**
 * Vigil's own alert rules over what its probes measured. Pure: the caller brings the readings, the
 * state of the previous evaluation and the clock, so the whole on-call behaviour (for, cooldown,
 * rising, unknown values) is decided here and tested without Redis.
 */

/** What one rule remembers about one target between evaluations. Times in ms since the epoch. */
export interface TargetState {
  /** The condition has held since then, not yet for `for` (not firing). */
  pendingSince: number | null;
  /** Firing since then (the alert's startsAt). */
  firingSince: number | null;
  /** Firing, but the condition has been clear since then (counting down `cooldown`). */
  clearSince: number | null;
  /** The last known value, for `rising`: unknown evaluations keep it, so a gap compares across. */
  last: number | null;
  /** The summary as of the last evaluation that could judge the condition. */
  summary: string | null;
  /** The alert as last sent firing: what a later notification resolves. Null when not sent firing. */
  sent: AlertInstance | null;
}

/**
 * Everything between two evaluations, by rule name then target name. A rule evaluated at least
 * once has an entry (maybe empty); one without an entry is evaluated as new (see evaluateRules).
 */
export type RuleState = Record<string, Record<string, TargetState>>;

export const RULE_RECEIVER = 'vigil-rules';


/** `holds`/`clear`: the condition holds or not; `unknown`: this evaluation cannot tell. */
type Verdict = { kind: 'holds' | 'clear'; summary: string } | { kind: 'unknown' };

/**
 * One evaluation of every rule.
 *
 * Per target: the condition holding starts `pending`, which fires once it has held for `for`; a
 * firing alert whose condition is clear resolves once it has stayed clear for `cooldown` (holding
 * again in between cancels the countdown). An evaluation that cannot judge the condition (value
 * missing, ratio divisor 0, no previous value for `rising`) changes nothing: unknown is not ok. A
 * target that disappeared (a deleted queue, an HTTP target removed from the config, a target the
 * rule no longer selects) resolves at once, unless its probe could not list its targets this time.
 *
 * Notifications: one per rule whose set of firing alerts changed (fired, resolved, relabelled), a
 * complete snapshot of the rule's group; never because a measured value moved. A rule evaluated
 * for the first time (new, or its state was lost) always sends its snapshot, even with nothing
 * firing, so a group left firing by a lost state resolves instead of staying stuck. A rule removed
 * from the config resolves what it had firing.
 */
export function evaluateRules(
  rules: AlertRule[],
  readings: EvaluatedReading[],
  prev: RuleState,
  now: number,
): { next: RuleState; notifications: Notification[] } {
  const next: RuleState = {};
  const notifications: Notification[] = [];

  for (const rule of rules) {
    const known = prev[rule.name];
    const result = evaluateRule(rule, readings, known ?? {}, now);
    next[rule.name] = result.targets;
    if (result.changed || known === undefined) {
      notifications.push(snapshotOf(ruleGroup(rule), result.firing, result.resolved, now));
    }
  }

  const configured = new Set(rules.map((r) => r.name));
  for (const name of Object.keys(prev).sort()) {
    if (configured.has(name)) continue;
    const sent = Object.values(prev[name] ?? {}).flatMap((t) => (t.sent ? [t.sent] : []));
    if (sent.length === 0) continue;
    const first = sent[0] as AlertInstance;
    const group = { name, labels: { alertname: name, severity: first.labels.severity ?? '', probe: first.labels.probe ?? '' } };
    notifications.push(snapshotOf(group, [], sent, now));
  }
  return { next, notifications };
}

interface RuleGroup {
  name: string;
  /** Labels every alert of the rule carries (alertname, severity, probe). */
  labels: Record<string, string>;
}

const ruleGroup = (rule: AlertRule): RuleGroup => ({ name: rule.name, labels: { alertname: rule.name, severity: rule.severity, probe: rule.probe } });

function evaluateRule(
  rule: AlertRule,
  readings: EvaluatedReading[],
  prev: Record<string, TargetState>,
  now: number,
): { targets: Record<string, TargetState>; firing: AlertInstance[]; resolved: AlertInstance[]; changed: boolean } {
  const inScope = (target: string) => rule.target === undefined || rule.target === target;
  const current = new Map<string, EvaluatedReading>();
  for (const r of readings) if (r.kind === rule.probe && inScope(r.name) && !current.has(r.name)) current.set(r.name, r);
  const listed = listingSucceeded(rule.probe, readings);

  const targets: Record<string, TargetState> = {};
  const names = new Set([...Object.keys(prev), ...current.keys()]);
  for (const name of [...names].sort()) {
    const before = prev[name] ?? EMPTY;
    const reading = current.get(name);
    let after: TargetState;
    if (reading) after = step(rule, before, verdictOf(rule, reading, before.last), valueOf(rule, reading), now);
    // Gone: resolves. Unless the listing failed, in which case nobody knows whether it is gone.
    else if (inScope(name) && !listed) after = before;
    else after = { ...EMPTY, sent: before.sent };
    if (!isIdle(after) || after.sent !== null) targets[name] = after;
  }

  // What to send: compared by fingerprint, so a relabelled alert (severity edited) resolves the old one.
  const firing: AlertInstance[] = [];
  for (const [name, t] of Object.entries(targets)) {
    if (t.firingSince !== null) firing.push(alertOf(rule, name, t));
  }
  const firingPrints = new Set(firing.map((a) => a.fingerprint));
  const sentBefore = Object.values(targets).flatMap((t) => (t.sent ? [t.sent] : []));
  const resolved = sentBefore.filter((a) => !firingPrints.has(a.fingerprint));
  const changed = resolved.length > 0 || firing.some((a) => !sentBefore.some((s) => s.fingerprint === a.fingerprint));

  // Unchanged: keep the alerts as sent (their summary then is the one Slack shows). Changed: what
  // is sent now is what the next evaluation compares with; resolved ones are dropped once sent.
  for (const [name, t] of Object.entries(targets)) {
    const sent = changed ? (firing.find((a) => a.labels.target === name) ?? null) : t.sent;
    if (sent === null && isIdle(t)) delete targets[name];
    else targets[name] = { ...t, sent };
  }
  return { targets, firing, resolved, changed };
}

const EMPTY: TargetState = { pendingSince: null, firingSince: null, clearSince: null, last: null, summary: null, sent: null };

/** Nothing pending or firing, and no value `rising` needs: nothing worth keeping. */
const isIdle = (t: TargetState) => t.pendingSince === null && t.firingSince === null && t.last === null;

/** One evaluation of one target: pending → firing after `for`, firing → resolved after `cooldown`. */
function step(rule: AlertRule, before: TargetState, verdict: Verdict, value: number | undefined, now: number): TargetState {
  // `rising` compares with the last value known, whatever this evaluation concludes.
  const last = rule.rising ? (value ?? before.last) : null;
  if (verdict.kind === 'unknown') return { ...before, last };
  const base = { ...before, last, summary: verdict.summary };

  if (verdict.kind === 'holds') {
    if (before.firingSince !== null) return { ...base, clearSince: null };
    const pendingSince = before.pendingSince ?? now;
    if (now - pendingSince >= rule.for) return { ...base, pendingSince: null, firingSince: now, clearSince: null };
    return { ...base, pendingSince };
  }

  if (before.firingSince === null) return { ...base, pendingSince: null };
  const clearSince = before.clearSince ?? now;
  if (now - clearSince >= rule.cooldown) return { ...base, pendingSince: null, firingSince: null, clearSince: null };
  return { ...base, clearSince };
}

/**
 * The number a rule compares: the measure, or measure / ratioTo. Undefined when the reading does
 * not have it or the divisor is 0 (Redis reports maxmemory 0 for "no limit").
 */
function valueOf(rule: AlertRule, reading: EvaluatedReading): number | undefined {
  if (rule.measure === undefined) return undefined;
  const value = reading.values[rule.measure];
  if (value === undefined || !Number.isFinite(value)) return undefined;
  if (rule.ratioTo === undefined) return value;
  const divisor = reading.values[rule.ratioTo];
  if (divisor === undefined || !Number.isFinite(divisor) || divisor === 0) return undefined;
  return value / divisor;
}

function verdictOf(rule: AlertRule, reading: EvaluatedReading, last: number | null): Verdict {
  const where = `${rule.probe} ${reading.name}`;
  if (rule.down) {
    return reading.error !== undefined
      ? { kind: 'holds', summary: `${where}: down (${truncate(reading.error, 200)})` }
      : { kind: 'clear', summary: `${where}: up` };
  }
  const value = valueOf(rule, reading);
  if (value === undefined) return { kind: 'unknown' };
  const label = rule.ratioTo === undefined ? (rule.measure ?? '') : `${rule.measure ?? ''}/${rule.ratioTo}`;
  if (rule.rising) {
    // The first value is only a baseline: nothing to compare with yet.
    if (last === null) return { kind: 'unknown' };
    const holds = value > last;
    return { kind: holds ? 'holds' : 'clear', summary: `${where}: ${label} ${holds ? 'rising' : 'not rising'} (${num(last)} → ${num(value)})` };
  }
  if (rule.above !== undefined) {
    const holds = value > rule.above;
    return { kind: holds ? 'holds' : 'clear', summary: `${where}: ${label} ${num(value)} ${holds ? '>' : '≤'} ${num(rule.above)}` };
  }
  if (rule.below !== undefined) {
    const holds = value < rule.below;
    return { kind: holds ? 'holds' : 'clear', summary: `${where}: ${label} ${num(value)} ${holds ? '<' : '≥'} ${num(rule.below)}` };
  }
  return { kind: 'unknown' };
}

/**
 * False when the probe could not list its targets this time (queue discovery failed: one failing
 * reading named after the discovery): targets missing from the readings are then unknown, not gone.
 */
function listingSucceeded(kind: string, readings: EvaluatedReading[]): boolean {
  const discovery = registrationFor(kind)?.discoveryName;
  if (discovery === undefined) return true;
  return !readings.some((r) => r.kind === kind && r.name === discovery && r.error !== undefined);
}

function alertOf(rule: AlertRule, target: string, t: TargetState): AlertInstance {
  const labels = { alertname: rule.name, severity: rule.severity, probe: rule.probe, target };
  const annotations: Record<string, string> = {};
  const summary = rule.summary ?? t.summary;
  if (summary) annotations.summary = summary;
  if (rule.description) annotations.description = rule.description;
  if (rule.runbook_url) annotations.runbook_url = rule.runbook_url;
  return {
    fingerprint: fingerprintOf(labels),
    status: 'firing',
    labels,
    annotations,
    startsAt: new Date(t.firingSince ?? 0).toISOString(),
    endsAt: null,
    generatorURL: null,
  };
}

/** The rule's group as Alertmanager would send it: complete (nothing truncated), so absent alerts resolve. */
function snapshotOf(group: RuleGroup, firing: AlertInstance[], resolved: AlertInstance[], now: number): Notification {
  const endsAt = new Date(now).toISOString();
  const alerts = [...firing, ...resolved.map((a): AlertInstance => ({ ...a, status: 'resolved', endsAt }))].sort(
    (a, b) => (a.labels.target ?? '').localeCompare(b.labels.target ?? '') || a.fingerprint.localeCompare(b.fingerprint),
  );
  return {
    source: 'vigil',
    receiver: RULE_RECEIVER,
    groupKey: ruleGroupKey(group.name),
    status: firing.length > 0 ? 'firing' : 'resolved',
    groupLabels: { alertname: group.name },
    commonLabels: alerts.length > 0 ? common(alerts.map((a) => a.labels)) : group.labels,
    commonAnnotations: alerts.length > 0 ? common(alerts.map((a) => a.annotations)) : {},
    externalURL: null,
    truncatedAlerts: 0,
    alerts,
  };
}

/** The pairs every set shares (Alertmanager's commonLabels / commonAnnotations). */
function common(sets: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = sets;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first ?? {})) if (rest.every((s) => s[k] === v)) out[k] = v;
  return out;
}

/** Whole numbers as they are, others to at most three decimals: `0.853`, `1200`. */
function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
