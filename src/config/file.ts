import { z } from 'zod';
import { actionsConfigSchema } from '../actions/catalog-config.ts';
import { accessConfigSchema, NO_ACCESS_RULES } from '../access/access-config.ts';
import { backupsSchema } from './backup-config.ts';
import { slosSchema } from '../reports/slo/slo-config.ts';
import { reportsConfigSchema } from '../reports/report-config.ts';
import { incidentsConfigSchema } from './incidents-config.ts';
import { durationText } from './duration.ts';
import { httpUrl } from './http-url.ts';
import { channelId, userGroupId } from './slack-ids.ts';
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from '../http/intake-limits.ts';

const thresholds = z
  .object({
    waiting: z.number().int().min(1).default(1000),
    failed: z.number().int().min(1).default(1),
  })
  .strict();

const httpTarget = z
  .object({
    name: z.string().min(1).max(60),
    url: httpUrl,
    expectStatus: z.number().int().min(100).max(599).optional(),
    timeoutMs: z.number().int().min(50).max(2500).optional(),
  })
  .strict();

const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Prometheus label name');

/**
 * One of Vigil's own alert rules over what its probes measure (for teams without Prometheus).
 * Exactly one condition: `above`/`below` a number, `rising` (grew since the last evaluation), or
 * `down` (the probe could not measure at all).
 */
const alertRule = z
  .object({
    /** The alert's name (its `alertname` label). */
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,100}$/, 'must be a Prometheus-style name like QueueBacklog'),
    severity: z.string().regex(/^[a-z][a-z0-9_-]{0,30}$/, 'a lower-case word like critical or warning'),
    probe: z.enum(['postgres', 'redis', 'queue', 'http', 'backup']),
    /** A queue, HTTP target or backup name; all targets of the probe when absent. */
    target: z.string().min(1).max(200).optional(),
    /** A value the probe measures, e.g. waiting, failed, connections_used, memory_used_bytes, latency_ms. */
    measure: z.string().regex(/^[a-z_]{1,60}$/).optional(),
    /** Compare measure / this other measure (e.g. connections_max): a share, 0.8 = 80 %. */
    ratioTo: z.string().regex(/^[a-z_]{1,60}$/).optional(),
    above: z.number().optional(),
    below: z.number().optional(),
    rising: z.literal(true).optional(),
    down: z.literal(true).optional(),
    /** How long the condition must hold before the alert fires (default at once). */
    for: durationText.default(0),
    /** How long the condition must stay clear before the alert resolves (default at once). */
    cooldown: durationText.default(0),
    summary: z.string().max(500).optional(),
    description: z.string().max(2000).optional(),
    runbook_url: z.string().url().optional(),
  })
  .strict()
  .refine((r) => [r.above !== undefined, r.below !== undefined, r.rising, r.down].filter(Boolean).length === 1, {
    message: 'needs exactly one condition: above, below, rising or down',
  })
  .refine((r) => r.down || r.measure !== undefined, { message: 'needs `measure` (which value to compare) unless the condition is `down`' });

export type AlertRule = z.infer<typeof alertRule>;

/** A catalog action offered as a button on an alert's message; `$labels.<name>` values come from the alert. */
const alertAction = z
  .object({
    action: z.string().min(1),
    label: z.string().min(1).max(75).optional(),
    params: z.record(z.string(), z.union([z.string().max(200), z.number()])).default({}),
  })
  .strict();

export type AlertActionConfig = z.infer<typeof alertAction>;

/** Where alerts go and how loudly: see manifests/vigil.example.yaml for the meaning of each key. */
const alerts = z
  .object({
    /** Channel by severity label; `default` takes every other severity (and alerts without one). */
    channels: z
      .object({ default: channelId })
      .catchall(channelId)
      .refine((c) => Object.keys(c).every((k) => /^[a-z][a-z0-9_-]*$/.test(k)), 'severity names are lower case'),
    /** First match wins and overrides the severity's channel: every label listed must be equal. */
    routes: z
      .array(z.object({ match: z.record(labelName, z.string()).refine((m) => Object.keys(m).length > 0, 'needs at least one label'), channel: channelId }).strict())
      .default([]),
    /** A user group mentioned in the first message of a group with this severity (e.g. critical). */
    mentions: z.record(z.string(), userGroupId).default({}),
    /**
     * Per severity (`default` for the rest): a group that fires again within this many seconds of
     * resolving keeps its message (counted as a flap), and its thread gets at most one reply per window.
     */
    cooldownSeconds: z
      .record(z.string(), z.number().int().min(0).max(86_400))
      .default({ critical: 60, warning: 300, default: 300 }),
    /**
     * Applied notifications (`vigil.alert_notifications`, a few KB each) are deleted this many days
     * after they were applied; the groups they built stay. Unapplied ones are never deleted.
     */
    keepNotificationsDays: z.number().int().min(1).max(3650).default(14),
    /**
     * Storm mode: past `perMinute` new alert messages in a channel within a minute, further new
     * groups are counted in one summary message for that channel (updated at most every
     * `summaryEverySeconds`) instead of posting each; normal again once a minute stays under.
     */
    storm: z
      .object({ perMinute: z.number().int().min(1).max(1000).default(10), summaryEverySeconds: z.number().int().min(5).max(600).default(30) })
      .strict()
      .default({ perMinute: 10, summaryEverySeconds: 30 }),
    /**
     * A group of these severities not acknowledged within `afterMinutes` gets a thread reply
     * mentioning `mention` and a copy in `channel`.
     */
    escalation: z
      .object({
        channel: channelId,
        afterMinutes: z.number().min(0.05).max(24 * 60).default(15),
        mention: userGroupId.optional(),
        severities: z.array(z.string()).min(1).default(['critical']),
      })
      .strict()
      .optional(),
    /**
     * Dead-man's switch: Alertmanager's always-firing alert (conventionally `Watchdog`). When none
     * arrives for `windowMinutes`, Vigil raises a critical alert of its own; its groups are never posted.
     */
    deadman: z
      .object({ alertname: z.string().min(1).default('Watchdog'), windowMinutes: z.number().min(0.05).max(24 * 60).default(10) })
      .strict()
      .optional(),
    /** Vigil's own rules, evaluated on `evaluate` (node-cron, seconds allowed) on one replica per tick. */
    rules: z.array(alertRule).default([]),
    evaluate: z.string().min(9).default('*/15 * * * * *'),
    /** Runbook actions by alert name: request buttons on the alert's message (at most 3 each, beside Silence). */
    actions: z.record(z.string().min(1), z.array(alertAction).max(3)).default({}),
  })
  .strict()
  .refine((a) => new Set(a.rules.map((r) => r.name)).size === a.rules.length, { path: ['rules'], message: 'rule names must be unique' });

const MIB = 1024 * 1024;
const limitDefaults = { ...DEFAULT_INTAKE_LIMITS, maxUnverifiedBodyMiB: DEFAULT_INTAKE_LIMITS.maxUnverifiedBodyBytes / MIB };

/**
 * What an unauthenticated client may hold of the HTTP server (see IntakeLimits). The defaults suit
 * Slack and Alertmanager, whose requests are in within milliseconds; raise them only for a slow proxy.
 */
const intakeLimits = z
  .object({
    headersTimeoutMs: z.number().int().min(500).max(60_000).default(limitDefaults.headersTimeoutMs),
    requestTimeoutMs: z.number().int().min(1000).max(300_000).default(limitDefaults.requestTimeoutMs),
    bodyTimeoutMs: z.number().int().min(500).max(300_000).default(limitDefaults.bodyTimeoutMs),
    maxConnections: z.number().int().min(16).max(100_000).default(limitDefaults.maxConnections),
    maxUnverifiedBodyMiB: z.number().min(1).max(1024).default(limitDefaults.maxUnverifiedBodyMiB),
  })
  .strict()
  .refine((h) => h.headersTimeoutMs <= h.requestTimeoutMs, { path: ['headersTimeoutMs'], message: 'must not exceed requestTimeoutMs (the whole request includes its headers)' })
  .refine((h) => h.bodyTimeoutMs <= h.requestTimeoutMs, { path: ['bodyTimeoutMs'], message: 'must not exceed requestTimeoutMs (the whole request includes its body)' })
  .transform(({ maxUnverifiedBodyMiB, ...rest }): IntakeLimits => ({ ...rest, maxUnverifiedBodyBytes: Math.round(maxUnverifiedBodyMiB * MIB) }))
  .default(DEFAULT_INTAKE_LIMITS);

/** The declarative part of Vigil's configuration (`manifests/vigil.yaml`). Unknown keys are typos. */
export const fileSchema = z
  .object({
    slack: z
      .object({
        /** Reply visibility when a user does not pass `--public`. */
        visibility: z.enum(['ephemeral', 'in_channel']).default('ephemeral'),
        /** Past this, a slash command is acked with "working…" and answered via response_url. */
        ackAfterMs: z.number().int().min(100).max(2500).default(2000),
        /** Pace of messages Vigil starts itself, per channel: under Slack's ~1/s with short bursts. */
        outbox: z
          .object({
            perSecond: z.number().positive().max(100).default(0.9),
            burst: z.number().int().min(1).max(20).default(3),
          })
          .strict()
          .default({ perSecond: 0.9, burst: 3 }),
      })
      .strict()
      .default({ visibility: 'ephemeral', ackAfterMs: 2000, outbox: { perSecond: 0.9, burst: 3 } }),
    state: z
      .object({
        /** Key prefix of Vigil's own BullMQ queues (outbox, actions): never the prefix it inspects. */
        queuePrefix: z.string().min(1).regex(/^[^:*?\s]+$/, 'must not contain : * ? or spaces').default('vigil'),
        /** Connections to Vigil's state database per replica (requests, clicks, alerts, audit). */
        poolMax: z.number().int().min(2).max(200).default(10),
        /** Where the audit chain's head is anchored, outside the database (default `.vigil/audit-anchor.json`). */
        auditAnchor: z.string().min(1).optional(),
      })
      .strict()
      .default({ queuePrefix: 'vigil', poolMax: 10 }),
    probes: z
      .object({
        timeoutMs: z.number().int().min(50).max(2500).default(1000),
        http: z.array(httpTarget).default([]),
        /** Backups whose freshness /health and Vigil's rules watch (see backup-config.ts). */
        backups: backupsSchema.default([]),
        /** Read-only connections to the inspected database per replica (probes, /slowqueries). */
        poolMax: z.number().int().min(1).max(200).default(10),
      })
      .strict()
      .default({ timeoutMs: 1000, http: [], backups: [], poolMax: 10 }),
    http: intakeLimits,
    alerts: alerts.optional(),
    /** Service level objectives read from Prometheus (PROMETHEUS_URL): /slo and burn-rate alerts (see slo-config.ts). */
    slos: slosSchema.optional(),
    actions: actionsConfigSchema.optional(),
    /** Scheduled ops reports and their checklists (src/reports/report-config.ts, docs/reports.md). */
    reports: reportsConfigSchema.optional(),
    /** Incidents: declare, a channel each, updates, a write-up (see incidents-config.ts). */
    incidents: incidentsConfigSchema.optional(),
    /** Who may run which command, act on alert messages, request which action; terminal users. */
    access: accessConfigSchema.default(NO_ACCESS_RULES),
    bullmq: z
      .object({
        prefix: z.string().min(1).regex(/^[^:*?\s]+$/, 'must not contain : * ? or spaces').default('bull'),
        thresholds: thresholds.default({ waiting: 1000, failed: 1 }),
        queues: z.record(z.string(), thresholds.partial()).default({}),
        /** How often the list of queues is re-read from Redis (a SCAN of every key, in the background). */
        refreshSeconds: z.number().int().min(1).max(3600).default(30),
      })
      .strict()
      .default({ prefix: 'bull', thresholds: { waiting: 1000, failed: 1 }, queues: {}, refreshSeconds: 30 }),
  })
  .strict()
  .refine((c) => c.state.queuePrefix !== c.bullmq.prefix, {
    path: ['state', 'queuePrefix'],
    message: 'must differ from bullmq.prefix: Vigil keeps its own queues apart from the ones it inspects',
  })
  .superRefine((c, ctx) => {
    // A backup rule's target must be a configured backup: a typo would leave the rule judging nothing.
    const backups = new Set(c.probes.backups.map((b) => b.name));
    c.alerts?.rules.forEach((r, i) => {
      if (r.probe === 'backup' && r.target !== undefined && !backups.has(r.target)) {
        ctx.addIssue({ code: 'custom', path: ['alerts', 'rules', i, 'target'], message: `no backup named ${r.target} in probes.backups` });
      }
    });
    // An alert's runbook action must be one the catalog defines: a typo would silently offer no button.
    for (const [alertname, list] of Object.entries(c.alerts?.actions ?? {})) {
      list.forEach((a, i) => {
        if (!c.actions || !Object.hasOwn(c.actions.catalog, a.action)) {
          ctx.addIssue({ code: 'custom', path: ['alerts', 'actions', alertname, i, 'action'], message: `no action ${a.action} in actions.catalog` });
        }
      });
    }
  });

export type FileConfig = z.infer<typeof fileSchema>;
