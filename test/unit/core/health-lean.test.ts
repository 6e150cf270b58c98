import { describe, expect, it } from 'vitest';
import health from '../../../commands/health.ts';
import { bindCommands } from '../../../src/core/command.ts';
import type { InspectDeps } from '../../../commands/deps.ts';
import { createDispatcher } from '../../../src/core/dispatch.ts';
import { createHealthService } from '../../../src/probes/health.ts';
import { renderMessage } from '../../../src/slack/blocks.ts';

/**
 * /health on the ack path: within 2 s it answers from one snapshot, and everyone asking within the
 * same tenth of a second gets the very same reply (and so the same rendering); a newer age text or
 * a newer snapshot gets a new one. No dependency is configured, so every probe reports at once
 * what is missing: real probes, no I/O.
 */
function setup() {
  let now = Date.now();
  const sources = { db: null, redis: null, queues: null, thresholdsFor: () => ({ waiting: 1000, failed: 1000 }), httpTargets: [], missing: { postgres: 'not configured', redis: 'not configured' } };
  const service = createHealthService({ ...sources, timeoutMs: 500 }, () => now);
  const deps: InspectDeps = { health: service, db: null, queues: null, redis: null, redisAt: null, missing: sources.missing, thresholdsFor: sources.thresholdsFor, now: () => now };
  const dispatcher = createDispatcher({ commands: bindCommands([health], deps) });
  const ask = async (text = '') => (await dispatcher.dispatch('/health', text, { surface: 'slack', userId: 'U1' })).reply;
  return { service, ask, advance: (ms: number) => (now += ms), setNow: (ms: number) => (now = ms) };
}

describe('/health on the ack path', () => {
  it('hands everyone asking within the same tenth of a second one frozen reply, rendered once', async () => {
    const { ask, setNow, service } = setup();
    const first = await ask();
    // The clock at the snapshot's own time: "0.0 s" old, no age shown.
    setNow((await service.recent(2000)).checkedAt.getTime());
    const a = await ask();
    const b = await ask();
    expect(b).toBe(a);
    expect(a.data).toBe(first.data);
    expect(Object.isFrozen(a)).toBe(true);
    expect(renderMessage(b)).toBe(renderMessage(a));
    expect(a.summary).not.toContain(' ago');
  });

  it('shows the age of a snapshot up to 2 s old, with a new reply per age text, from the same snapshot', async () => {
    const { ask, advance, setNow, service } = setup();
    const snapshot = await service.recent(2000);
    setNow(snapshot.checkedAt.getTime());
    const young = await ask();
    advance(300);
    const older = await ask();
    expect(older).not.toBe(young);
    expect(older.data).toBe(snapshot);
    expect(older.summary).toContain('0.3 s ago');
    expect(await ask()).toBe(older);
    expect(renderMessage(older)).not.toBe(renderMessage(young));
    // --verbose is a reply of its own, also reused.
    const verbose = await ask('--verbose');
    expect(verbose).not.toBe(older);
    expect(await ask('-v')).toBe(verbose);
  });

  it('answers from a fresh snapshot once one is taken, with a fresh reply and rendering', async () => {
    const { ask, service, setNow } = setup();
    const before = await ask();
    const renderedBefore = renderMessage(before);
    const fresh = await service.check();
    setNow(fresh.checkedAt.getTime());
    const after = await ask();
    expect(after.data).toBe(fresh);
    expect(after).not.toBe(before);
    expect(renderMessage(after)).not.toBe(renderedBefore);
  });
});
