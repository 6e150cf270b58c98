/**
 * The action store's guarded UPDATEs against the real Postgres, called directly: the SQL is the
 * last line of defence (a click that passed the TypeScript policy on one replica can race a change
 * on another), so each guard must hold on its own, whatever the caller checked before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { newRequestId } from '../../src/actions/request.ts';
import { insertRequest, loadRequest, recordApproval, type NewRequest } from '../../src/actions/store.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const REQUESTER = 'U0REQUESTER';
let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase('action_store');
  pool = createPool(db.url, { name: 'vigil-test-action-store', max: 2, onIdleError: () => undefined });
  await migrate(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

function request(over: Partial<NewRequest> = {}): NewRequest {
  return {
    id: newRequestId(),
    action: 'restart',
    params: { service: 'api' },
    preview: 'systemctl restart api',
    risk: 'high',
    reason: 'deploy stuck',
    requestedBy: REQUESTER,
    requestedByName: 'rita',
    channel: 'C0OPS',
    approvalsNeeded: 1,
    expiresInMs: 15 * 60_000,
    ...over,
  };
}

/** The whole stored row as text: "changes nothing" means not one column moved. */
async function rawRow(id: string): Promise<string> {
  const { rows } = await pool.query<{ row: string }>('SELECT to_jsonb(r)::text AS row FROM vigil.action_requests r WHERE id = $1', [id]);
  return rows[0]?.row ?? 'no such row';
}

describe('recordApproval: the requester approving their own request', () => {
  it('is refused by the UPDATE itself unless self-approval is allowed: null, and the row unchanged', async () => {
    const req = await insertRequest(pool, request());
    const before = await rawRow(req.id);

    expect(await recordApproval(pool, req.id, REQUESTER, 'rita', false)).toBeNull();
    expect(await rawRow(req.id)).toBe(before);
    expect(await loadRequest(pool, req.id)).toMatchObject({ state: 'requested', approvals: [], decidedBy: null, version: 1 });

    // The same request is open to anyone else: the guard refused the requester, not the request.
    const approved = await recordApproval(pool, req.id, 'U0APPROVER', 'ann', false);
    expect(approved).toMatchObject({ state: 'approved', decidedBy: 'ann', version: 2, approvals: [{ userId: 'U0APPROVER', name: 'ann' }] });
  });

  it('is refused while more approvals are needed too: it never counts towards four eyes', async () => {
    const req = await insertRequest(pool, request({ approvalsNeeded: 2 }));
    const before = await rawRow(req.id);
    expect(await recordApproval(pool, req.id, REQUESTER, 'rita', false)).toBeNull();
    expect(await rawRow(req.id)).toBe(before);
  });

  it('is recorded when the policy allows self-approval', async () => {
    const req = await insertRequest(pool, request());
    const approved = await recordApproval(pool, req.id, REQUESTER, 'rita', true);
    expect(approved).toMatchObject({ state: 'approved', decidedBy: 'rita', version: 2, approvals: [{ userId: REQUESTER, name: 'rita' }] });
    expect(await loadRequest(pool, req.id)).toEqual(approved);
  });
});
