import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/embedded/postgres-server.ts';
import { findOnPath, startEmbeddedRedis } from '../../src/embedded/redis-server.ts';
import { borrowBotPostgres, borrowBotRedis } from '../../src/embedded/borrow.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { OwnedElsewhereError, readRecord } from '../../src/embedded/ownership.ts';
import { isRunning, processRef, type ProcessRef } from '../../src/embedded/process-ref.ts';

const quiet = (): void => {};
const PATH = process.env.PATH ?? '';

/** Resolves true if something accepts TCP connections on the port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** A process that has exited: what a record's owner is after kill -9. */
function deadProcess(): ProcessRef {
  const done = spawnSync('true');
  return { pid: done.pid ?? 999_999, start: 1 };
}

async function ping(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}

/** A redis-server working in `dir`, started behind Vigil's back: a crashed Vigil's leftover. */
async function strayRedis(dir: string): Promise<{ child: ChildProcess; ref: ProcessRef; port: number }> {
  const bin = await findOnPath('redis-server', PATH);
  const port = await freePort();
  const child = spawn(bin!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 50));
  const ref = await processRef(child.pid!);
  return { child, ref: ref!, port };
}

describe('embedded Redis', () => {
  it('starts redis-server on a free port, records itself as owner, and stop() closes the port and drops the record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-redis-'));
    const redis = await startEmbeddedRedis({ dir, log: quiet, pathEnv: PATH });
    try {
      const url = new URL(redis.url);
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.port).not.toBe('6379'); // never the machine's own Redis
      expect(await ping(redis.url)).toBe('PONG');
      expect(redis.notice).toBeUndefined();

      const record = await readRecord(join(dir, 'owner.json'));
      expect(record?.owner.pid).toBe(process.pid);
      expect(record?.port).toBe(Number(url.port));
      expect(await isRunning(record!.child!)).toBe(true);

      // A second owner on the same dir is refused while this one runs.
      await expect(startEmbeddedRedis({ dir, log: quiet, pathEnv: PATH })).rejects.toBeInstanceOf(OwnedElsewhereError);

      await redis.stop();
      expect(await portOpen(Number(url.port))).toBe(false);
      expect(await isRunning(record!.child!)).toBe(false);
      expect(await readRecord(join(dir, 'owner.json'))).toBeNull();
    } finally {
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("stops a crashed Vigil's redis-servers (unrecorded ones, then a recorded one) before starting its own", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-redis-'));
    const strays: ChildProcess[] = [];
    const stray = async () => {
      const started = await strayRedis(dir);
      strays.push(started.child);
      return started;
    };
    const strayA = await stray();
    const strayB = await stray();
    try {
      // No record at all (as left by a Vigil that kept none): found by their working directory.
      const redis = await startEmbeddedRedis({ dir, log: quiet, pathEnv: PATH });
      await redis.stop();
      expect(await isRunning(strayA.ref)).toBe(false);
      expect(await isRunning(strayB.ref)).toBe(false);
      expect(redis.notice).toMatch(/stopped the embedded Redis in .* left running by an earlier Vigil/);
      expect(redis.notice).toContain(String(strayA.ref.pid));
      expect(redis.notice).toContain(String(strayB.ref.pid));

      // Now with a record naming a dead owner and its still-running server.
      const recorded = await stray();
      const dead = deadProcess();
      await writeFile(join(dir, 'owner.json'), JSON.stringify({ owner: dead, child: recorded.ref, port: recorded.port }));
      const again = await startEmbeddedRedis({ dir, log: quiet, pathEnv: PATH });
      try {
        expect(again.notice).toMatch(new RegExp(`left running by Vigil pid ${dead.pid}, which exited without stopping it \\(server pid ${recorded.ref.pid}\\)`));
        expect(await isRunning(recorded.ref)).toBe(false);
        expect(await ping(again.url)).toBe('PONG');
      } finally {
        await again.stop();
      }
    } finally {
      for (const child of strays) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('explains how to get redis-server when it is not on PATH', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-redis-'));
    try {
      const start = startEmbeddedRedis({ dir, log: quiet, pathEnv: join(dir, 'no-such-bin') });
      await expect(start).rejects.toThrow(/sudo apt-get install redis-server/);
      await expect(start).rejects.toThrow(/brew install redis/);
      await expect(start).rejects.toThrow(/REDIS_URL=redis:\/\/host:6379/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is borrowed (never started) by the CLI only while its owner runs", async () => {
    const root = await mkdtemp(join(tmpdir(), 'vigil-borrow-'));
    try {
      expect(await borrowBotRedis(root)).toEqual({ none: 'no Vigil bot is running here' });
      const redis = await startEmbeddedRedis({ dir: join(root, 'redis'), log: quiet, pathEnv: PATH });
      try {
        expect(await borrowBotRedis(root)).toEqual({ url: redis.url, ownerPid: process.pid });
        const record = await readRecord(join(root, 'redis', 'owner.json'));
        await writeFile(join(root, 'redis', 'owner.json'), JSON.stringify({ ...record, owner: deadProcess() }));
        expect(await borrowBotRedis(root)).toEqual({ none: expect.stringMatching(/^the Vigil bot that ran the embedded Redis here has exited/) });
      } finally {
        await redis.stop();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('embedded PostgreSQL', () => {
  async function query(url: string): Promise<{ preload: string; statements: number }> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const preload = await client.query<{ v: string }>("SELECT current_setting('shared_preload_libraries') AS v");
      // A statement of our own must show up: the extension is loaded and tracking, not just installed.
      await client.query('SELECT 42 AS vigil_embedded_marker');
      const stmts = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_statements WHERE query LIKE '%vigil_embedded_marker%'");
      return { preload: preload.rows[0]?.v ?? '', statements: Number(stmts.rows[0]?.n) };
    } finally {
      await client.end();
    }
  }

  it('initialises and serves the vigil db; one owner at a time; a dead owner\'s postmaster is stopped, not adopted; restarts on the same data dir', async () => {
    // mkdtemp gives a root-owned 0700 dir: exactly the permissions case the
    // module must fix up when running as root (postgres runs as `postgres`).
    const root = await mkdtemp(join(tmpdir(), 'vigil-pg-'));
    const dataDir = join(root, 'pg');
    const recordFile = join(root, 'pg.owner.json');
    try {
      expect(await borrowBotPostgres(root)).toEqual({ none: 'no Vigil bot is running here' });
      const first = await startEmbeddedPostgres({ dataDir, log: quiet });
      let firstPostmaster: ProcessRef | null = null;
      try {
        expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/vigil$/);
        const r = await query(first.url);
        expect(r.preload).toContain('pg_stat_statements');
        expect(r.statements).toBeGreaterThanOrEqual(1);

        // The record names this process and the postmaster (the pid postgres itself writes).
        const record = await readRecord(recordFile);
        const pidFromPostgres = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
        expect(record).toMatchObject({ owner: { pid: process.pid }, child: { pid: pidFromPostgres }, port: Number(new URL(first.url).port) });
        firstPostmaster = record!.child;

        // While it runs: a second owner is refused, and the CLI borrows it.
        await expect(startEmbeddedPostgres({ dataDir, log: quiet })).rejects.toBeInstanceOf(OwnedElsewhereError);
        expect(await borrowBotPostgres(root)).toEqual({ url: first.url, ownerPid: process.pid });

        // The owner "dies" (kill -9 leaves exactly this: a record with a dead owner, postgres running).
        await writeFile(recordFile, JSON.stringify({ ...record, owner: deadProcess() }));
        expect(await borrowBotPostgres(root)).toEqual({ none: expect.stringMatching(/^the Vigil bot that ran the embedded PostgreSQL here has exited/) });
        const next = await startEmbeddedPostgres({ dataDir, log: quiet });
        try {
          expect(next.notice).toMatch(new RegExp(`stopped the embedded PostgreSQL in .* \\(server pid ${firstPostmaster!.pid}\\)`));
          expect(await isRunning(firstPostmaster!)).toBe(false);
          expect(next.url).not.toBe(first.url); // a fresh postmaster on a fresh port, same password
          expect(new URL(next.url).password).toBe(new URL(first.url).password);
          expect((await query(next.url)).preload).toContain('pg_stat_statements');
          // The old handle's stop() leaves the new owner's server and record alone.
          await first.stop();
          expect((await readRecord(recordFile))?.owner.pid).toBe(process.pid);
          expect((await query(next.url)).preload).toContain('pg_stat_statements');
        } finally {
          await next.stop();
        }
        expect(await readRecord(recordFile)).toBeNull();
        expect(await portOpen(Number(new URL(next.url).port))).toBe(false);
      } finally {
        await first.stop();
      }
      expect((await stat(join(root, 'pg-password'))).mode & 0o777).toBe(0o600);

      // Restart path: no initdb, same password from pg-password.
      const second = await startEmbeddedPostgres({ dataDir, log: quiet });
      try {
        expect(second.notice).toBeUndefined();
        expect(new URL(second.url).password).toBe(new URL(first.url).password);
        expect((await query(second.url)).preload).toContain('pg_stat_statements');
      } finally {
        await second.stop();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});
