/**
 * The bot keeps the audit chain's head outside the database: at start, every 30 s and once more as
 * it stops, after the last command's event is written. Checked on a real bot with VIGIL_AUDIT_KEY:
 * the rows it wrote are keyed, the anchor it leaves names the last row and is signed, and a cut
 * tail then fails verification against it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnchor } from '../../src/audit/anchor.ts';
import { auditKeyFrom, verifyAuditChain } from '../../src/audit/chain.ts';
import { ALERT_SIGNING_SECRET, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { adminQuery } from '../support/pg.ts';
import { postSigned, signedSlashCommand } from '../support/slack-requests.ts';

const KEY_TEXT = 'e2e-audit-key-0123456789abcdef-01234567';

let world: BotWorld;
let bot: AlertsBot | null = null;

beforeAll(async () => {
  world = await createBotWorld('audit_anchor');
  bot = await startAlertsBot({
    slack: world.slack,
    databaseUrl: world.testDb.url,
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    alerts: { channels: { default: 'C0ALERTS' } },
    env: { VIGIL_AUDIT_KEY: KEY_TEXT },
  });
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await world?.close();
});

describe('the audit anchor the bot keeps', () => {
  it('names the last row once the bot stopped, signed with the key; a cut tail then fails against it', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await postSigned(`${bot?.baseUrl}/slack/events`, signedSlashCommand({ command: '/health', text: `anchor-${i}` }, { signingSecret: ALERT_SIGNING_SECRET }));
      expect(res.status).toBe(200);
    }
    await bot?.stop();
    bot = null;

    const { rows } = await world.db.query<{ id: string; keyed: boolean }>('SELECT id, keyed FROM vigil.audit_events ORDER BY id');
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.every((r) => r.keyed)).toBe(true);
    const dir = join(world.workDir, '.vigil', 'audit-anchor');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const key = auditKeyFrom(KEY_TEXT);
    const read = readAnchor(join(dir, files[0] ?? ''), key);
    if (!read || 'problem' in read) throw new Error(`no usable anchor: ${JSON.stringify(read)}`);
    // The last event, the third /health's, written as the bot stopped: anchored after it.
    expect(read.anchor.id).toBe(Number(rows.at(-1)?.id));
    expect(await verifyAuditChain(world.db, { key, anchor: read.anchor })).toMatchObject({ ok: true, keyedFrom: 1 });

    await adminQuery(
      `BEGIN; ALTER TABLE vigil.audit_events DISABLE TRIGGER audit_events_append_only; DELETE FROM vigil.audit_events WHERE id = ${read.anchor.id}; ALTER TABLE vigil.audit_events ENABLE TRIGGER audit_events_append_only; COMMIT;`,
      world.testDb.name,
    );
    expect(await verifyAuditChain(world.db, { key, anchor: read.anchor })).toMatchObject({ ok: false, reason: expect.stringContaining('rows at the end were deleted') });
  });
});
