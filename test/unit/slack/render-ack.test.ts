import { describe, expect, it } from 'vitest';
import type { Reply } from '../../../src/core/reply.ts';
import { renderBlocks, renderMessage } from '../../../src/slack/blocks.ts';

/** What the ack path renders: a frozen reply (one handed to many) once, anything else afresh. */

const reply = (): Reply => ({
  title: 'Health: healthy',
  status: 'ok',
  summary: 'All 3 checks passed in 4 ms, 0.3 s ago.',
  sections: [{ heading: 'Queues', table: { columns: ['name', 'state'], rows: [['emails', 'ok']] } }],
  notes: ['a note'],
});

describe('renderMessage', () => {
  it('renders a frozen reply once: the same message object every time, deeply frozen', () => {
    const frozen = Object.freeze(reply());
    const first = renderMessage(frozen);
    expect(renderMessage(frozen)).toBe(first);
    expect(first).toEqual(renderBlocks(frozen));
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.blocks)).toBe(true);
    expect(Object.isFrozen(first.blocks[0])).toBe(true);
  });

  it('keeps one rendering per default visibility', () => {
    const frozen = Object.freeze(reply());
    const ephemeral = renderMessage(frozen, 'ephemeral');
    const inChannel = renderMessage(frozen, 'in_channel');
    expect(ephemeral.response_type).toBe('ephemeral');
    expect(inChannel.response_type).toBe('in_channel');
    expect(renderMessage(frozen, 'in_channel')).toBe(inChannel);
  });

  it('renders a reply that is not frozen afresh, and a fresh frozen reply (a newer snapshot) anew', () => {
    const open = reply();
    const a = renderMessage(open);
    const b = renderMessage(open);
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
    expect(Object.isFrozen(a)).toBe(false);

    const older = Object.freeze(reply());
    const newer = Object.freeze({ ...reply(), summary: 'All 3 checks passed in 5 ms.' });
    expect(renderMessage(newer)).not.toBe(renderMessage(older));
    expect(JSON.stringify(renderMessage(newer))).toContain('in 5 ms.');
  });
});
