import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { openAuditSpool } from '../../src/audit/audit-spool.ts';
import { createAuditWriter, type AuditWriter } from '../../src/audit/audit-writer.ts';
import type { AuditEvent } from '../../src/audit/chain.ts';
import { CHAIN_LOCK, verifyAuditChain } from '../../src/audit/chain.ts';
import { commandRunEvent } from '../../src/audit/command-log.ts';
import { createPool } from '../../src/db/pools.ts';
import { createStateStore } from '../../src/db/state.ts';
import type { Logger } from '../../src/log.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { waitFor } from '../support/wait.ts';

const pools: pg.Pool[] = [];
const dirs: string[] = [];
let db: TestDatabase;
let admin: pg.Pool;
let proxy: FaultProxy;

function makePool(url: string, max = 2): pg.Pool {
  const pool = createPool(url, { name: 'vigil-test-audit', max, onIdleError: () => undefined });
  pools.push(pool);
  return pool;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-spool-'));
  dirs.push(dir);
  return dir;
}

/** The test database reached through the fault proxy. */
function proxiedUrl(): string {
  const url = new URL(db.url);
  url.host = proxy.address;
  return url.toString();
}

function quietLog(): { log: Logger; lines: Array<{ msg: string }> } {
  const lines: Array<{ msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  return { log: pino({ level: 'info', base: undefined }, sink), lines };
}

/** Events of one test, told apart by subject; `n` in details gives the order they were recorded in. */
function events(subject: string, count: number): AuditEvent[] {
  return Array.from({ length: count }, (_, n) => ({ actorId: 'U1', kind: 'command', subject, outcome: 'ok', details: { n } }));
}

async function storedOrder(subject: string): Promise<number[]> {
  const { rows } = await admin.query<{ n: number }>(`SELECT (details->>'n')::int AS n FROM vigil.audit_events WHERE subject = $1 ORDER BY id`, [subject]);
  return rows.map((r) => r.n);
}

interface WriterOptions {
  spoolDir?: string;
  memoryLimit?: number;
  log?: Logger;
  /** The spool's own pid and who counts as alive (stand-ins for replicas sharing the directory). */
  spoolAs?: { pid: number; isAlive: (pid: number) => boolean };
  adoptEveryMs?: number;
}

function writer(pool: pg.Pool, opts: WriterOptions = {}): AuditWriter {
  return createAuditWriter({
    state: createStateStore(pool),
    log: opts.log ?? quietLog().log,
    registry: new Registry(),
    spool: opts.spoolDir ? openAuditSpool(opts.spoolDir, opts.spoolAs ?? {}) : null,
    ...(opts.adoptEveryMs !== undefined ? { adoptEveryMs: opts.adoptEveryMs } : {}),
    ...(opts.memoryLimit !== undefined ? { memoryLimit: opts.memoryLimit } : {}),
    backoffMs: () => 100,
  });
}

beforeAll(async () => {
  db = await createTestDatabase('auditw');
  admin = makePool(db.url);
  await createStateStore(admin).ready();
  const target = new URL(db.url);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await proxy?.close();
  await db?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('audit writer', () => {
  it('writes command runs as command events, in order, through a one-connection pool', async () => {
    const audit = writer(makePool(db.url, 1));
    for (let i = 0; i < 1200; i++) {
      audit.record(commandRunEvent({ command: 'burst', text: String(i), invoker: { surface: 'slack', userId: 'U123', userName: 'alice', channelId: 'C1' }, outcome: 'ok', durationMs: 1.5 }));
    }
    await audit.flush();
    const { rows } = await admin.query<{ args: string; actor_name: string }>("SELECT details->>'args' AS args, actor_name FROM vigil.audit_events WHERE subject = 'burst' ORDER BY id");
    expect(rows.map((r) => Number(r.args))).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    expect(rows[0]?.actor_name).toBe('alice');
    expect(audit.status()).toMatchObject({ queued: 0, spooled: 0, failingSince: null });
  });

  it('loses nothing through a Postgres outage: retried until it is back, in order, and says it is failing meanwhile', async () => {
    const audit = writer(makePool(proxiedUrl()));
    await proxy.set('refuse');
    const all = events('outage', 2000);
    for (const e of all.slice(0, 1000)) audit.record(e);
    await new Promise((r) => setTimeout(r, 700));
    for (const e of all.slice(1000)) audit.record(e);
    expect(audit.status().failingSince).not.toBeNull();
    expect(audit.status().lastError).toMatch(/ECONNREFUSED|connect/);

    await proxy.set('pass');
    await audit.flush();
    expect(await storedOrder('outage')).toEqual(all.map((_, n) => n));
    expect(audit.status()).toMatchObject({ queued: 0, failingSince: null });
    expect(await verifyAuditChain(admin)).toMatchObject({ ok: true });
  });

  it('writes a batch once when the link breaks after its COMMIT reached Postgres but before the answer came back', async () => {
    const audit = writer(makePool(proxiedUrl()));
    audit.record(events('lost-commit-warmup', 1)[0] as AuditEvent);
    await audit.flush();
    const lost = proxy.loseReplyTo('COMMIT');
    const all = events('lost-commit', 50);
    for (const e of all) audit.record(e);
    await lost;
    await audit.flush();
    // The retry must see that the batch is already there, not append it a second time.
    expect(await storedOrder('lost-commit')).toEqual(all.map((_, n) => n));
    expect(await verifyAuditChain(admin)).toMatchObject({ ok: true });
  });

  it('recovers by itself from a link that goes silent (old connections never answer again)', async () => {
    const audit = writer(makePool(proxiedUrl()));
    audit.record(events('silent-warmup', 1)[0] as AuditEvent);
    await audit.flush();
    await proxy.set('silent');
    const all = events('silent', 50);
    for (const e of all) audit.record(e);
    await new Promise((r) => setTimeout(r, 300));
    await proxy.set('pass'); // new connections work; the silent ones stay silent
    const started = Date.now();
    await audit.flush();
    // The stuck attempt ends at the client's query timeout (statement timeout + 1 s), not never.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await storedOrder('silent')).toEqual(all.map((_, n) => n));
  }, 30_000);

  it('isolates a row Postgres refuses: its 199 neighbours are written, it is kept as a rejected stand-in', async () => {
    const audit = writer(makePool(db.url));
    const batch = events('refused', 200);
    // Random text too long for the subject index: Postgres refuses the row (54000), not the link.
    const poison: AuditEvent = { actorId: 'U1', kind: 'command', subject: randomBytes(12_000).toString('base64'), outcome: 'ok', details: { n: 100 } };
    for (const e of batch.slice(0, 100)) audit.record(e);
    audit.record(poison);
    for (const e of batch.slice(100)) audit.record(e);
    await audit.flush();
    expect(await storedOrder('refused')).toEqual(batch.map((_, n) => n));
    const { rows } = await admin.query<{ outcome: string; details: { originalOutcome: string; refusedBecause: string } }>(
      'SELECT outcome, details FROM vigil.audit_events WHERE subject = $1',
      [poison.subject.slice(0, 200)],
    );
    expect(rows).toEqual([{ outcome: 'rejected', details: { originalOutcome: 'ok', refusedBecause: expect.stringMatching(/index row/) } }]);
  });
});

/** Holds the audit chain's lock in a transaction of its own until `release`, so appends wait. */
async function holdChainLock(): Promise<{ release: () => Promise<void> }> {
  const client = await admin.connect();
  await client.query('BEGIN');
  await client.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
  return {
    release: async () => {
      await client.query('COMMIT');
      client.release();
    },
  };
}

/** Whether `promise` settled within `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

describe('safe before the answer', () => {
  it('settles once the event is committed, not before', async () => {
    const audit = writer(makePool(db.url), { spoolDir: tempDir() });
    const lock = await holdChainLock();
    const recorded = audit.record(events('safe-commit', 1)[0] as AuditEvent);
    // The append waits for the lock: nothing is safe yet, so an answer would have to wait too.
    expect(await settledWithin(recorded, 150)).toBe(false);
    await lock.release();
    await recorded;
    expect(await storedOrder('safe-commit')).toEqual([0]);
    expect(audit.status()).toMatchObject({ spooled: 0 });
  });

  it('copies the event to disk when the commit is slow, and writes it once all the same', async () => {
    const spoolDir = tempDir();
    const { log, lines } = quietLog();
    const audit = writer(makePool(db.url), { spoolDir, log });
    const lock = await holdChainLock();
    const [event] = events('safe-slow', 1) as [AuditEvent];
    const started = Date.now();
    await audit.record(event);
    expect(Date.now() - started).toBeLessThan(2000);
    // What a kill now would leave: the event, on disk (the spool's files are what the next start replays).
    expect(audit.status()).toMatchObject({ queued: 1, spooled: 1 });
    const onDisk = readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(spoolDir, f), 'utf8')).join('');
    expect(onDisk).toContain('"subject":"safe-slow"');
    await lock.release();
    await audit.flush();
    // Written from memory, and the copy on disk recognised as written when replayed.
    expect(await storedOrder('safe-slow')).toEqual([0]);
    expect(audit.status()).toMatchObject({ queued: 0, spooled: 0 });
    // Recognised before the append, not by a unique-key error and a retry.
    expect(lines.map((l) => l.msg)).toEqual([]);
    expect(await verifyAuditChain(admin)).toMatchObject({ ok: true });
  });

  it('while Postgres is failing, puts each event on disk before it settles, and writes each once when it is back', async () => {
    const spoolDir = tempDir();
    const audit = writer(makePool(proxiedUrl()), { spoolDir });
    await proxy.set('refuse');
    audit.record(events('safe-failing-first', 1)[0] as AuditEvent);
    await waitFor(() => audit.status().failingSince !== null, { what: 'the writer to see Postgres failing' });
    const all = events('safe-failing', 5);
    const started = Date.now();
    await Promise.all(all.map((e) => audit.record(e)));
    expect(Date.now() - started).toBeLessThan(100);
    expect(audit.status().spooled).toBeGreaterThanOrEqual(5);
    await proxy.set('pass');
    await audit.flush();
    expect(await storedOrder('safe-failing')).toEqual([0, 1, 2, 3, 4]);
    expect(await storedOrder('safe-failing-first')).toEqual([0]);
  });
});

describe('audit spool', () => {
  it('spools past the memory limit while Postgres is away, and the next start replays it in order', async () => {
    const spoolDir = tempDir();
    await proxy.set('refuse');
    const first = writer(makePool(proxiedUrl()), { spoolDir, memoryLimit: 50 });
    const all = events('spooled', 500);
    for (const e of all) first.record(e);
    // All on disk: those kept in memory (a write was under way when they came) have a copy there.
    expect(first.status().spooled).toBe(500);
    expect(first.status().queued).toBeLessThanOrEqual(50);
    // Shutdown with Postgres still away: what is in memory goes to disk too.
    await first.close(300);
    expect(first.status()).toMatchObject({ queued: 0, spooled: 500 });
    expect(readdirSync(spoolDir).some((f) => f.endsWith('.jsonl'))).toBe(true);

    await proxy.set('pass');
    const next = writer(makePool(proxiedUrl()), { spoolDir });
    next.record({ actorId: 'U1', kind: 'command', subject: 'spooled', outcome: 'ok', details: { n: 500 } });
    await next.flush();
    expect(await storedOrder('spooled')).toEqual(Array.from({ length: 501 }, (_, n) => n));
    expect(next.status()).toMatchObject({ queued: 0, spooled: 0 });
    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });

  it('adopts the spool a crashed process left behind, skipping a line torn by the crash', async () => {
    const spoolDir = tempDir();
    const lines = events('crashed', 3).map((e) => JSON.stringify(e)).join('\n');
    // A pid that is not running; the last line was cut short by the crash.
    writeFileSync(join(spoolDir, 'spool-999999-1000-1.jsonl'), `${lines}\n{"actorId":"U1","ki`);
    const audit = writer(makePool(db.url), { spoolDir });
    expect(audit.status().spooled).toBe(3);
    await audit.flush();
    expect(await storedOrder('crashed')).toEqual([0, 1, 2]);
    expect(existsSync(join(spoolDir, 'spool-999999-1000-1.jsonl'))).toBe(false);
  });

  it('replicas sharing the directory claim what a killed one left, and it is written once', async () => {
    const spoolDir = tempDir();
    const dead = new Set<number>();
    const isAlive = (pid: number) => !dead.has(pid);
    // Two live replicas, started before the third dies (so not adopted at their start).
    const siblings = [101, 102].map((pid) => writer(makePool(db.url), { spoolDir, spoolAs: { pid, isAlive }, adoptEveryMs: 50 }));
    await proxy.set('refuse');
    const victim = writer(makePool(proxiedUrl()), { spoolDir, spoolAs: { pid: 103, isAlive } });
    const all = events('claimed', 20);
    await Promise.all(all.map((e) => victim.record(e)));
    expect(victim.status().spooled).toBe(20);
    dead.add(103); // killed: nothing of its memory survives, its spool does
    await waitFor(() => siblings.every((w) => w.status().spooled === 0) && readdirSync(spoolDir).length === 0, { what: 'the orphaned spool claimed and written' });
    await Promise.all(siblings.map((w) => w.flush()));
    expect(await storedOrder('claimed')).toEqual(all.map((_, n) => n));
    await victim.close(50);
    await proxy.set('pass');
    await Promise.all(siblings.map((w) => w.close(100)));
  });

  it("leaves a live process's spool to that process", async () => {
    const spoolDir = tempDir();
    writeFileSync(join(spoolDir, `spool-${process.ppid}-1000-1.jsonl`), `${JSON.stringify(events('alive', 1)[0])}\n`);
    const audit = writer(makePool(db.url), { spoolDir });
    expect(audit.status().spooled).toBe(0);
    await audit.close(100);
    expect(existsSync(join(spoolDir, `spool-${process.ppid}-1000-1.jsonl`))).toBe(true);
  });
});
