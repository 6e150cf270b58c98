import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { MemberDirectory } from './access/members.ts';
import type { AccessPolicy } from './access/policy.ts';
import type { Config } from './config/load.ts';
import type { AuditChain } from './audit/chain.ts';
import type { AppError } from './core/errors.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { StateStore } from './db/state.ts';
import type { ProbeServices } from './probes/probe-services.ts';
import type { Outbox } from './slack/outbox/types.ts';
import type { UserGroupReader } from './slack/user-groups.ts';

/** What the composition root builds and hands to every feature: connections and clients, no behaviour. */
export interface Infrastructure {
  config: Config;
  /** Which process this is: the bot, a one-shot CLI call, or `vigil runner` (actions only). */
  role: 'bot' | 'cli' | 'runner';
  log: Logger;
  metrics: Metrics;
  /** Read-only pool on the inspected database (probes, commands): it cannot write, by server setting. */
  probeDb: pg.Pool | null;
  /** Vigil's own tables (schema `vigil`), in VIGIL_DATABASE_URL or else the inspected database. */
  state: StateStore;
  /** Fast-failing Redis for probes: errors at once while Redis is down instead of queueing. */
  probeRedis: Redis | null;
  /** Why Postgres or Redis is absent, for commands and /health to say. */
  missing: { postgres?: string; redis?: string };
  /**
   * The one path for every Slack message Vigil starts itself (bot only, with Slack, Redis and
   * state). Null with the reason otherwise; a feature that needs it says so.
   */
  outbox: Outbox | null;
  outboxMissing?: string;
  /**
   * Where a replica without its own outbox (the shell without Slack, the CLI) hands messages a bot
   * delivers: the same queue, no worker here. Used for approval requests, so one made from a
   * terminal reaches the approvals channel while a bot runs. Null without Redis or state.
   */
  relayOutbox: Outbox | null;
  /** One line at start saying what a feature uses (the same channel as the dependency lines). */
  announce: (line: string) => void;
  /** The Redis in use (configured or embedded), for a feature's own BullMQ connection; null without one. */
  redisUrl: string | null;
  /** Members of Slack user groups (with Slack configured), e.g. for approver groups. */
  userGroups: UserGroupReader | null;
  /** Who is in which user group, cached: approvers, requesters, access rules. */
  members: MemberDirectory;
  /** Appends to the audit chain, with VIGIL_AUDIT_KEY when set: every change's events go through it. */
  audit: AuditChain;
  /** Where this state database's chain head is anchored, outside it; null without a state database. */
  auditAnchorPath: string | null;
  /** `access:` in the config: who may run which command, act on alert messages, request which action. */
  access: AccessPolicy;
  /** A Postgres or Redis failure as "which, where (host:port), why"; null for anything else. */
  explainError: (err: unknown) => AppError | null;
  /** /health, /queue and the alert rules read these: built once, shared. */
  probes: ProbeServices;
  /**
   * A link that opens the Slack message Vigil posted under `key`, or null (not posted, no state).
   * Here rather than on the outbox: `/alerts` links its groups from the CLI too, which has none.
   */
  messageLink: (key: string) => Promise<string | null>;
}

