import { describe, expect, it } from 'vitest';
import { actionsConfigSchema } from '../../../src/actions/catalog-config.ts';

const parse = (action: Record<string, unknown>) => actionsConfigSchema.safeParse({ approvalChannel: 'C0APPROVALS', catalog: { a: action } });
const messages = (action: Record<string, unknown>) => {
  const r = parse(action);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const silence = { title: 'Silence', risk: 'low', builtin: 'alertmanager.silence', approvers: { users: ['U0BOSS'] } };

describe('selfServiceUpTo in the catalog', () => {
  it('is kept for a silence action that needs approval', () => {
    const r = parse({ ...silence, selfServiceUpTo: '4h' });
    expect(r.success && r.data.catalog.a?.selfServiceUpToMs).toBe(4 * 3_600_000);
    const without = parse(silence);
    expect(without.success && without.data.catalog.a?.selfServiceUpToMs).toBeNull();
  });

  it('is refused on anything else, when it is not a duration, and with approval: none', () => {
    expect(messages({ title: 'Retry', risk: 'low', builtin: 'bullmq.retryFailed', approvers: { users: ['U0BOSS'] }, selfServiceUpTo: '4h' })).toEqual([
      'catalog.a.selfServiceUpTo: is only for actions running the alertmanager.silence builtin',
    ]);
    expect(messages({ ...silence, selfServiceUpTo: 'soon' })).toEqual(['catalog.a.selfServiceUpTo: "soon" is not a duration like 4h']);
    expect(messages({ ...silence, approval: 'none', selfServiceUpTo: '4h' })).toEqual([
      'catalog.a.selfServiceUpTo: means nothing with `approval: none` (every silence runs at once)',
    ]);
  });
});
