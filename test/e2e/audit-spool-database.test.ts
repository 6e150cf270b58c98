/**
 * Audit events spooled to disk while one database was away are replayed into that database only:
 * a Vigil started against another database leaves them where they are (and says so), and one
 * started against theirs writes them.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openAuditSpool } from '../../src/audit/audit-spool.ts';
import { databaseIdentity, spoolDirFor, spoolsElsewhere } from '../../src/audit/spool-place.ts';
import { startAlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { waitFor } from '../support/wait.ts';

let world: BotWorld;
let other: TestDatabase;

beforeAll(async () => {
  world = await createBotWorld('spool_a');
  other = await createTestDatabase('spool_b');
});

afterAll(async () => {
  await other?.drop();
  await world?.close();
});

const countIn = async (url: string, subject: string) => {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    return Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM vigil.audit_events WHERE subject = $1", [subject])).rows[0]?.n);
  } finally {
    await pool.end();
  }
};

describe('the audit spool', () => {
  it("replays into the database it was written for, never into another one a later start uses", async () => {
    const dataDir = join(world.workDir, '.vigil');
    const subject = `spooled-for-b-${randomUUID()}`;
    // As a Vigil on database B left it when B was away at its shutdown.
    const forB = spoolDirFor(dataDir, databaseIdentity(other.url));
    const spool = openAuditSpool(forB, { pid: 999_999, isAlive: () => false });
    spool.append([{ actorId: 'U0B', kind: 'command', subject, outcome: 'ok', writeKey: randomUUID() }]);
    expect(spool.pending()).toBe(1);

    // Started against A: B's events stay on disk, named as waiting for B.
    const onA = await startAlertsBot({ slack: world.slack, databaseUrl: world.testDb.url, workDir: world.workDir, queuePrefix: world.queuePrefix, alerts: { channels: { default: 'C0SPOOL' } } });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const mine = spoolDirFor(dataDir, databaseIdentity(world.testDb.url));
      expect(spoolsElsewhere(dataDir, mine).map((s) => s.database)).toEqual([databaseIdentity(other.url)]);
      expect(readdirSync(forB).some((f) => f.endsWith('.jsonl'))).toBe(true);
    } finally {
      await onA.stop();
    }
    expect(await countIn(world.testDb.url, subject)).toBe(0);

    // Started against B: written there, and the spool is emptied.
    const onB = await startAlertsBot({ slack: world.slack, databaseUrl: other.url, workDir: world.workDir, queuePrefix: `${world.queuePrefix}-b`, alerts: { channels: { default: 'C0SPOOL' } } });
    try {
      await waitFor(async () => (await countIn(other.url, subject)) === 1, { timeoutMs: 10_000, what: "B's spooled event written into B" });
    } finally {
      await onB.stop();
    }
    expect(await countIn(world.testDb.url, subject)).toBe(0);
    expect(existsSync(forB) && readdirSync(forB).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  }, 60_000);
});
