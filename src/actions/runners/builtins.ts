import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { describeError } from '../../core/errors.ts';
import type { ActionOutcome } from '../definition.ts';
import { parseDuration, type ParamValues } from '../params.ts';
import type { BuiltinName } from '../builtin-params.ts';
import { expireSilence, silence, silenceLabels, type OwnSilences } from './silences.ts';
import { vacuumTable } from './vacuum.ts';

export type { OwnSilences } from './silences.ts';

/** Real clients, from the composition root; null when Vigil runs without that dependency. */
export interface BuiltinDeps {
  /** Vigil's queue connection (`maxRetriesPerRequest: null`) and the prefix of the INSPECTED queues. */
  bullmq: { connection: Redis; prefix: string } | null;
  /** ALERTMANAGER_URL; credentials in it are sent as Basic auth, never shown. */
  alertmanagerUrl: string | null;
  /** A pool on the inspected database (the read-only probe pool works: signalling is no write). */
  db: pg.Pool | null;
  /** Vigil's own silences, for its own alerts (Alertmanager never sees those); null without a state database. */
  ownSilences?: OwnSilences | null;
  fetch?: typeof fetch;
}


export interface BuiltinContext {
  signal: AbortSignal;
  requestedBy: string;
  timeoutMs: number;
}

type Outcome = ActionOutcome;
const refused = (summary: string): Outcome => ({ ok: false, summary, output: '' });


/**
 * Run one builtin. Missing dependencies and targets that do not exist are refused outcomes (ok
 * false, nothing changed), not exceptions; a dependency failing midway throws for the worker to
 * report.
 */
export async function runBuiltin(name: BuiltinName, params: ParamValues, deps: BuiltinDeps, ctx: BuiltinContext): Promise<Outcome> {
  if (ctx.signal.aborted) return refused('Aborted before it started; nothing changed.');
  const work = ((): Promise<Outcome> => {
    switch (name) {
      case 'bullmq.retryFailed':
      case 'bullmq.pause':
      case 'bullmq.resume':
      case 'bullmq.clean':
        return withQueue(deps, String(params.queue), (q) => queueAction(name, q, params, ctx));
      case 'alertmanager.silence':
        return silence(deps, params, ctx);
      case 'alertmanager.expireSilence':
        return expireSilence(deps, String(params.id), ctx);
      case 'postgres.cancel':
      case 'postgres.terminate':
        return signalBackend(deps, name === 'postgres.cancel' ? 'cancel' : 'terminate', Number(params.pid));
      case 'postgres.vacuum':
        return vacuumTable(deps.db, String(params.table), ctx.timeoutMs);
    }
  })();
  return withDeadline(work, ctx.timeoutMs, name);
}

/**
 * Request-time check of what the parameter schema cannot know: that the queue exists, that a
 * silence's matchers parse. Null when fine, else a message for the requester. The runner checks
 * again when it runs.
 */
export async function checkBuiltinTarget(name: BuiltinName, params: ParamValues, deps: BuiltinDeps): Promise<string | null> {
  // The matcher grammar (pairs, no duplicates, none naming another parameter) is beyond a text
  // pattern, and a pattern would be lost when a config narrows the slot: so it is checked here,
  // before the request is stored, and again by silence() before anything is sent.
  if (name === 'alertmanager.silence') {
    const labels = silenceLabels(params);
    return labels.ok ? null : labels.message;
  }
  if (!name.startsWith('bullmq.')) return null;
  if (!deps.bullmq) return 'BullMQ actions need Redis, which is not configured.';
  const queue = String(params.queue);
  if (await queueExists(deps.bullmq, queue)) return null;
  const known = await listQueues(deps.bullmq);
  return `queue ${JSON.stringify(queue)} does not exist under prefix ${deps.bullmq.prefix}; known queues: ${known.join(', ') || 'none'}`;
}

/** Queue names under the prefix (BullMQ has no list call: the `meta` hashes, as the probes find them). */
export async function listQueues(bullmq: { connection: Redis; prefix: string }): Promise<string[]> {
  const names = new Set<string>();
  const head = `${bullmq.prefix}:`;
  let cursor = '0';
  do {
    const [next, keys] = await bullmq.connection.scan(cursor, 'MATCH', `${head}*:meta`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) names.add(key.slice(head.length, -':meta'.length));
  } while (cursor !== '0');
  return [...names].sort();
}

async function queueExists(bullmq: { connection: Redis; prefix: string }, name: string): Promise<boolean> {
  return (await bullmq.connection.exists(`${bullmq.prefix}:${name}:meta`)) === 1;
}

/** Never create a queue by acting on a typo: refuse names that have no queue yet. */
async function withQueue(deps: BuiltinDeps, name: string, fn: (q: Queue) => Promise<Outcome>): Promise<Outcome> {
  if (!deps.bullmq) return refused('BullMQ actions need Redis, which is not configured; nothing changed.');
  if (!(await queueExists(deps.bullmq, name))) return refused(`Queue ${name} does not exist under prefix ${deps.bullmq.prefix}; nothing changed.`);
  // A passed connection is shared: closing the Queue leaves it open.
  const q = new Queue(name, { connection: deps.bullmq.connection, prefix: deps.bullmq.prefix, skipVersionCheck: true });
  q.on('error', () => undefined); // the awaited call reports it
  try {
    return await fn(q);
  } finally {
    await q.close();
  }
}

async function queueAction(name: BuiltinName, q: Queue, params: ParamValues, ctx: BuiltinContext): Promise<Outcome> {
  const queue = q.name;
  if (name === 'bullmq.pause' || name === 'bullmq.resume') {
    const wasPaused = await q.isPaused();
    if (name === 'bullmq.pause') await q.pause();
    else await q.resume();
    const verb = name === 'bullmq.pause' ? 'Paused' : 'Resumed';
    const already = wasPaused === (name === 'bullmq.pause');
    return { ok: true, summary: `${verb} queue ${queue}${already ? ` (it was ${wasPaused ? 'paused' : 'running'} already)` : ''}.`, output: '', details: { queue, wasPaused } };
  }
  if (name === 'bullmq.clean') {
    const state = String(params.state) as 'completed' | 'failed' | 'delayed' | 'wait';
    const graceMs = parseDuration(String(params.age)) ?? 0;
    const limit = Number(params.limit);
    const removed = await q.clean(graceMs, limit, state);
    return {
      ok: true,
      summary: `Removed ${removed.length} ${state} job${removed.length === 1 ? '' : 's'} older than ${params.age} from ${queue}${removed.length >= limit ? ` (the limit; more may remain)` : ''}.`,
      output: removed.length > 0 ? `job ids: ${removed.slice(0, 100).join(', ')}${removed.length > 100 ? ', …' : ''}` : '',
      details: { queue, state, removed: removed.length },
    };
  }
  // retryFailed: `retryJobs({ count })` loops until every failed job moved (count is a batch
  // size, not a limit), so the limit is kept by retrying jobs one by one.
  const limit = Number(params.limit);
  const failed = await q.getFailed(0, limit - 1);
  const retried: string[] = [];
  const skipped: string[] = [];
  for (const job of failed) {
    if (ctx.signal.aborted) break;
    if (!job) continue;
    try {
      await job.retry('failed');
      retried.push(String(job.id));
    } catch (err) {
      skipped.push(`${job.id}: ${describeError(err)}`); // retried or removed meanwhile
    }
  }
  const stillFailed = await q.getFailedCount();
  const lines = [retried.length > 0 ? `retried: ${retried.slice(0, 100).join(', ')}${retried.length > 100 ? ', …' : ''}` : '', ...skipped.slice(0, 20).map((s) => `skipped ${s}`)];
  return {
    ok: skipped.length === 0 || retried.length > 0,
    summary: `Retried ${retried.length} failed job${retried.length === 1 ? '' : 's'} of ${queue}${skipped.length ? `, ${skipped.length} skipped` : ''}; ${stillFailed} still failed.${ctx.signal.aborted ? ' Stopped early (aborted).' : ''}`,
    output: lines.filter(Boolean).join('\n'),
    details: { queue, retried: retried.length, skipped: skipped.length, stillFailed },
  };
}

interface Backend {
  pid: number;
  backend_type: string | null;
  usename: string | null;
  datname: string | null;
  application_name: string | null;
  state: string | null;
  own: boolean;
}

/**
 * pg_cancel_backend / pg_terminate_backend on one client backend. Refused: the connection making
 * the call, every backend of Vigil itself (application_name `vigil…`, as createPool names them),
 * and non-client processes (autovacuum, walsender, checkpointer…), which an on-call button
 * should never signal.
 */
async function signalBackend(deps: BuiltinDeps, how: 'cancel' | 'terminate', pid: number): Promise<Outcome> {
  if (!deps.db) return refused('Postgres actions need DATABASE_URL, which is not set; nothing changed.');
  const client = await deps.db.connect();
  try {
    const { rows } = await client.query<Backend>(
      `SELECT pid, backend_type, usename, datname, application_name, state, pid = pg_backend_pid() AS own
         FROM pg_stat_activity WHERE pid = $1`,
      [pid],
    );
    const b = rows[0];
    if (!b) return refused(`No Postgres backend has pid ${pid}; nothing changed.`);
    const who = `backend ${pid} (user ${b.usename ?? '?'}, database ${b.datname ?? '?'}${b.application_name ? `, application ${b.application_name}` : ''})`;
    if (b.own) return refused(`Refused: pid ${pid} is the connection Vigil is using for this action.`);
    if (b.application_name?.toLowerCase().startsWith('vigil')) return refused(`Refused: ${who} is one of Vigil's own connections.`);
    if (b.backend_type !== 'client backend') return refused(`Refused: pid ${pid} is a ${b.backend_type ?? 'server'} process, not a client backend.`);
    const fn = how === 'cancel' ? 'pg_cancel_backend' : 'pg_terminate_backend';
    const { rows: result } = await client.query<{ signalled: boolean }>(`SELECT ${fn}($1) AS signalled`, [pid]);
    const signalled = result[0]?.signalled === true;
    const done = how === 'cancel' ? `Cancelled the running query of ${who}` : `Terminated ${who}`;
    return {
      ok: signalled,
      summary: signalled ? `${done}${b.state ? `; it was ${b.state}` : ''}.` : `${fn}(${pid}) returned false: the backend is gone or could not be signalled.`,
      output: '',
      details: { pid, signalled, user: b.usename, database: b.datname, application: b.application_name, state: b.state },
    };
  } finally {
    client.release();
  }
}

/** A builtin waits at most its timeout: Redis or Postgres down must not hold the worker forever. */
async function withDeadline(work: Promise<Outcome>, ms: number, name: string): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, summary: `${name} did not finish within ${Math.round(ms / 1000)} s; it may still complete — check before asking again.`, output: '' }),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
