import type { z } from 'zod';
import type { People } from '../access/members.ts';
import type { ApprovalPolicy } from './policy.ts';

/** What an action's run reports back (output already redacted and capped by its runner). */
export interface ActionOutcome {
  ok: boolean;
  summary: string;
  output: string;
  details?: Record<string, unknown>;
}

export type ActionRun = (params: Record<string, string | number>, ctx: { signal: AbortSignal; requestedBy: string }) => Promise<ActionOutcome>;

/** One action of the catalog, ready to request, approve and run. */
export interface ActionDefinition {
  id: string;
  title: string;
  risk: 'low' | 'high';
  /** Null when the policy needs no approval (low-risk actions only). */
  policy: ApprovalPolicy | null;
  /** Who may ask for it (`requesters`); null: anyone who may run /run. */
  requesters: People | null;
  expiresAfterMs: number;
  /** Strict: unknown parameters and values outside their enum are refused. */
  params: z.ZodType<Record<string, string | number>>;
  /** Parameter names and what they accept, for /run's listing and errors. */
  paramHelp: Record<string, string>;
  /** Exactly what will run with these parameters, as approvers see it. */
  preview(params: Record<string, string | number>): string;
  run: ActionRun;
  /** A reason is required (silences). */
  needsReason: boolean;
  /** The parameter `--reason` fills when it is not given itself (a silence's comment). */
  reasonParam?: string;
  /** Silences up to this long asked by an approver run at once (`selfServiceUpTo`); null: never. */
  selfServiceUpToMs?: number | null;
  /** What the schema cannot check (an unknown queue, a silence's malformed matchers), said at request time; null when fine. */
  checkTarget(params: Record<string, string | number>): Promise<string | null>;
}
