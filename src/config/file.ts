import { z } from 'zod';

const thresholds = z
  .object({
    waiting: z.number().int().min(1).default(1000),
    failed: z.number().int().min(1).default(1),
  })
  .strict();

const httpTarget = z
  .object({
    name: z.string().min(1).max(60),
    url: z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL'),
    expectStatus: z.number().int().min(100).max(599).optional(),
    timeoutMs: z.number().int().min(50).max(2500).optional(),
  })
  .strict();

// Slack ids as they appear in the UI: channels C…/G…, user groups S….
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,20}$/, 'must be a Slack channel id like C0123ABCD');
const userGroupId = z.string().regex(/^S[A-Z0-9]{2,20}$/, 'must be a Slack user group id like S0123ABCD');
const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Prometheus label name');

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
  })
  .strict();

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
      })
      .strict()
      .default({ queuePrefix: 'vigil' }),
    probes: z
      .object({
        timeoutMs: z.number().int().min(50).max(2500).default(1000),
        http: z.array(httpTarget).default([]),
      })
      .strict()
      .default({ timeoutMs: 1000, http: [] }),
    alerts: alerts.optional(),
    bullmq: z
      .object({
        prefix: z.string().min(1).regex(/^[^:*?\s]+$/, 'must not contain : * ? or spaces').default('bull'),
        thresholds: thresholds.default({ waiting: 1000, failed: 1 }),
        queues: z.record(z.string(), thresholds.partial()).default({}),
      })
      .strict()
      .default({ prefix: 'bull', thresholds: { waiting: 1000, failed: 1 }, queues: {} }),
  })
  .strict()
  .refine((c) => c.state.queuePrefix !== c.bullmq.prefix, {
    path: ['state', 'queuePrefix'],
    message: 'must differ from bullmq.prefix: Vigil keeps its own queues apart from the ones it inspects',
  });

export type FileConfig = z.infer<typeof fileSchema>;
