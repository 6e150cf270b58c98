import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/embedded/postgres.ts';
import { startEmbeddedRedis } from '../../src/embedded/redis.ts';

const quiet = (): void => {};

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

describe('embedded Redis', () => {
  it('starts redis-server on a free port, answers PING, and stop() closes the port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-redis-'));
    const redis = await startEmbeddedRedis({ dir, log: quiet, pathEnv: process.env.PATH ?? '' });
    try {
      const url = new URL(redis.url);
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.port).not.toBe('6379'); // never the machine's own Redis
      const client = new Redis(redis.url, { lazyConnect: true });
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      client.disconnect();

      await redis.stop();
      expect(await portOpen(Number(url.port))).toBe(false);
    } finally {
      await redis.stop();
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

  it('initialises, serves the vigil db with pg_stat_statements, and restarts on the same data dir', async () => {
    // mkdtemp gives a root-owned 0700 dir: exactly the permissions case the
    // module must fix up when running as root (postgres runs as `postgres`).
    const root = await mkdtemp(join(tmpdir(), 'vigil-pg-'));
    const dataDir = join(root, 'pg');
    try {
      const first = await startEmbeddedPostgres({ dataDir, log: quiet });
      try {
        expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/vigil$/);
        const r = await query(first.url);
        expect(r.preload).toContain('pg_stat_statements');
        expect(r.statements).toBeGreaterThanOrEqual(1);

        // A second Vigil process (the CLI while the bot runs) reuses the running server, and
        // its stop() leaves the owner's server alone.
        const sharer = await startEmbeddedPostgres({ dataDir, log: quiet });
        expect(sharer.url).toBe(first.url);
        await sharer.stop();
        expect((await query(first.url)).preload).toContain('pg_stat_statements');
      } finally {
        await first.stop();
      }
      expect((await stat(join(root, 'pg-password'))).mode & 0o777).toBe(0o600);
      expect(await portOpen(Number(new URL(first.url).port))).toBe(false);

      // Restart path: no initdb, same password from .vigil/pg-password.
      const second = await startEmbeddedPostgres({ dataDir, log: quiet });
      try {
        expect(new URL(second.url).password).toBe(new URL(first.url).password);
        const r = await query(second.url);
        expect(r.preload).toContain('pg_stat_statements');
      } finally {
        await second.stop();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});
