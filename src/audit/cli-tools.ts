import { once } from 'node:events';
import { userInfo } from 'node:os';
import type pg from 'pg';
import { z } from 'zod';
import { actionSchema, sinceSchema, userSchema } from './filter-args.ts';
import type { Config } from '../config/load.ts';
import { createContainer } from '../container.ts';
import { parseCommandArgs } from '../core/args.ts';
import { describeError, isAppError } from '../core/errors.ts';
import { EXIT } from '../core/exit-codes.ts';
import { elapsedMs } from '../core/timeout.ts';
import type { Logger } from '../log.ts';
import { auditKeyFrom, canonicalJson, listAuditEvents, recordAuditEvents, verifyAuditChain, type AuditFilter, type AuditKey, type AuditRow } from './chain.ts';
import { readAnchor } from './anchor.ts';
import { resolve } from 'node:path';
import { terminalInvoker, terminalUser } from '../access/terminal-user.ts';
import { commandRunEvent } from './command-log.ts';

const noArgs = z.array(z.string()).max(0, 'takes no arguments besides the options');
type AuditTool = { tool: 'verify'; anchor?: string } | { tool: 'export'; format: 'csv' | 'json'; filter: AuditFilter };

/** The audit tools, as `vigil --help` lists them and `runAuditTool` runs them. */
export const AUDIT_TOOLS = {
  verify: {
    usage: 'vigil audit verify [--anchor FILE]',
    summary: "Check the audit trail's chain end to end (HMAC with VIGIL_AUDIT_KEY) and that it still holds its anchored head; exit 2 naming the first row that does not check out",
    options: { anchor: { type: 'string' } },
    args: z
      .object({ anchor: z.string().min(1).optional(), positionals: z.array(z.string()).max(0, 'takes no arguments') })
      .transform(({ anchor }): AuditTool => ({ tool: 'verify', ...(anchor ? { anchor } : {}) })),
  },
  export: {
    usage: 'vigil audit export --format csv|json [--since 24h] [--action X] [--user U]',
    summary: 'Write the audit trail (oldest first, with its hashes) to stdout as CSV or JSON',
    options: { format: { type: 'string' }, since: { type: 'string' }, action: { type: 'string' }, user: { type: 'string' } },
    args: z
      .object({ format: z.enum(['csv', 'json'], 'must be csv or json'), since: sinceSchema.optional(), action: actionSchema.optional(), user: userSchema.optional(), positionals: noArgs })
      .transform(({ format, since, action, user }): AuditTool => ({
        tool: 'export',
        format,
        filter: { ...(since ? { since: new Date(Date.now() - since.ms) } : {}), ...(action ? { action } : {}), ...(user ? { user } : {}) },
      })),
  },
} as const;
// `audit verify` on a broken chain exits as a failing check would.
const EXIT_BROKEN = EXIT.UNHEALTHY;

/**
 * `vigil audit verify` and `vigil audit export`: tools over the audit trail, not slash commands
 * (`vigil audit --user …` is the /audit command). Only Vigil's state database is used. Each run
 * is itself recorded in the trail, as a command event: who verified or exported it, and when.
 */
export async function runAuditTool(tool: keyof typeof AUDIT_TOOLS, argv: string[], config: Config, log: Logger): Promise<number> {
  const spec = AUDIT_TOOLS[tool];
  let args: AuditTool;
  try {
    args = parseCommandArgs<AuditTool>(argv, spec.options, spec.args);
  } catch (err) {
    if (!isAppError(err)) throw err;
    process.stderr.write(`vigil audit ${tool}: ${err.userMessage}\nusage: ${spec.usage}\n`);
    return EXIT.USAGE;
  }
  const container = await createContainer(config, { log, announce: (line) => log.debug(line), embedded: false, role: 'cli', features: [] });
  try {
    const state = await container.infra.state.ready();
    if (state.kind !== 'ready') {
      process.stderr.write(`vigil audit ${tool}: Vigil's state database is not available: ${state.why}\n`);
      return EXIT.FAILED;
    }
    const start = performance.now();
    const key = auditKeyFrom(config.env.VIGIL_AUDIT_KEY);
    let outcome = 'ok';
    let code: number = EXIT.OK;
    if (args.tool === 'export') {
      await exportTrail(state.pool, args.format, args.filter);
    } else {
      [outcome, code] = await verifyWithAnchor(state.pool, key, args.anchor ? resolve(config.cwd, args.anchor) : container.infra.auditAnchorPath);
    }
    const invoker = terminalInvoker('cli', terminalUser(config.file.access, config.env.VIGIL_USER, userInfo().username));
    const run = { command: 'audit', text: [tool, ...argv].join(' '), invoker, outcome: 'ok' as const, durationMs: elapsedMs(start) };
    await recordAuditEvents(state.pool, [{ ...commandRunEvent(run), outcome }], key).catch((err: unknown) => {
      process.stderr.write(`vigil audit ${tool}: could not record this run in the audit trail: ${describeError(err)}\n`);
    });
    return code;
  } catch (err) {
    process.stderr.write(`vigil audit ${tool}: ${describeError(err)}\n`);
    return EXIT.FAILED;
  } finally {
    await container.close();
  }
}

/** Verify the chain with the key and the anchor at `anchorPath`, print what was found; [outcome, exit code]. */
async function verifyWithAnchor(pool: pg.Pool, key: AuditKey, anchorPath: string | null): Promise<[string, number]> {
  const read = anchorPath ? readAnchor(anchorPath, key) : null;
  if (read && 'problem' in read) {
    process.stdout.write(`audit anchor refused: ${read.problem}\n`);
    return ['anchor_refused', EXIT_BROKEN];
  }
  const anchor = read?.anchor ?? null;
  const check = await verifyAuditChain(pool, { key, anchor });
  if (!check.ok) {
    process.stdout.write(`audit chain broken at id ${check.brokenId}: ${check.reason}\n(${check.checked} events before it check out)\n`);
    return ['chain_broken', EXIT_BROKEN];
  }
  const keyed = check.keyedFrom === null ? (key ? 'none keyed yet' : 'not keyed: set VIGIL_AUDIT_KEY so rows cannot be forged') : `keyed (HMAC) from id ${check.keyedFrom}`;
  const lines = [`audit chain ok: ${check.checked} events, ${keyed}`];
  if (check.head) lines.push(`head: id ${check.head.id}, hash ${check.head.hash}`);
  lines.push(anchor ? `anchor: id ${anchor.id} (written ${anchor.at}) is in the chain, unchanged` : `no anchor at ${anchorPath ?? '(none)'}: the end of the chain is not checked (the bot writes one every 30 s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return ['ok', EXIT.OK];
}

const EXPORT_PAGE = 1000;
const CSV_COLUMNS = ['id', 'at', 'actor_id', 'actor_name', 'channel', 'kind', 'subject', 'request_id', 'outcome', 'details', 'prev_hash', 'hash'] as const;

/** Oldest first, a page at a time, straight to stdout: with prev_hash and hash, so a copy can be checked offline. */
async function exportTrail(pool: pg.Pool, format: 'csv' | 'json', filter: AuditFilter): Promise<void> {
  await write(format === 'csv' ? `${CSV_COLUMNS.join(',')}\r\n` : '[');
  let afterId: number | undefined;
  let first = true;
  for (;;) {
    const rows = await listAuditEvents(pool, filter, { limit: EXPORT_PAGE, order: 'oldest', ...(afterId !== undefined ? { afterId } : {}) });
    if (rows.length === 0) break;
    const out = rows.map((row) => {
      const record = exportRecord(row);
      if (format === 'csv') return `${CSV_COLUMNS.map((c) => csvField(c === 'details' ? canonicalJson(record.details) : record[c])).join(',')}\r\n`;
      const text = `${first ? '\n' : ',\n'}${JSON.stringify(record)}`;
      first = false;
      return text;
    });
    await write(out.join(''));
    afterId = rows[rows.length - 1]?.id;
  }
  if (format === 'json') await write(first ? ']\n' : '\n]\n');
}

type ExportRecord = Record<Exclude<(typeof CSV_COLUMNS)[number], 'details'>, string | number | null> & { details: Record<string, unknown> };

function exportRecord(row: AuditRow): ExportRecord {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor_id: row.actorId,
    actor_name: row.actorName,
    channel: row.channel,
    kind: row.kind,
    subject: row.subject,
    request_id: row.requestId,
    outcome: row.outcome,
    details: row.details,
    prev_hash: row.prevHash,
    hash: row.hash,
  };
}

/** RFC 4180: quoted when it holds a comma, quote, line break or edge space; quotes doubled; null is empty. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

