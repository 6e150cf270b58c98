import { describe, expect, it } from 'vitest';
import { clip, escapeMrkdwn, LIMITS, renderBlocks } from '../../../src/slack/blocks.ts';
import type { Reply } from '../../../src/core/reply.ts';
import { validateBlocks } from '../../support/slack-api-server.ts';

const texts = (blocks: Record<string, unknown>[]) => JSON.stringify(blocks);

describe('escapeMrkdwn', () => {
  it('escapes exactly & < > (and & first, so nothing is escaped twice)', () => {
    expect(escapeMrkdwn('a & b <!channel> c > d "e"')).toBe('a &amp; b &lt;!channel&gt; c &gt; d "e"');
  });
});

describe('clip', () => {
  it('keeps short text and cuts long text to the limit with a marker', () => {
    expect(clip('abc', 5)).toBe('abc');
    const cut = clip('x'.repeat(4000), 3000);
    expect(cut).toHaveLength(3000);
    expect(cut.endsWith('…')).toBe(true);
  });
  it('never leaves half an HTML entity behind', () => {
    expect(clip(`${'x'.repeat(7)}&amp;yyy`, 10)).toBe('xxxxxxx…');
  });
});

describe('renderBlocks', () => {
  it('renders a header, summary, sections, fields and a table that Slack accepts', () => {
    const reply: Reply = {
      title: 'Health: degraded',
      status: 'warn',
      summary: 'Needs attention: queue <emails>',
      sections: [
        { heading: 'Postgres', status: 'ok', text: '3 ms', fields: [{ label: 'Version', value: '15.4' }] },
        { heading: 'Queues', table: { columns: ['name', 'state'], rows: [['emails', '3 waiting & 1 failed']], rowStatus: ['warn'] } },
      ],
      notes: ['note <b>'],
      actions: [{ label: 'Inspect emails', command: '/queue emails' }],
    };
    const message = renderBlocks(reply);
    expect(message.response_type).toBe('ephemeral');
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Health: degraded' } });
    expect(texts(message.blocks)).toContain('queue &lt;emails&gt;');
    expect(texts(message.blocks)).toContain('3 waiting &amp; 1 failed');
    expect(texts(message.blocks)).toContain('/queue emails');
    expect(message.text).toContain('Health: degraded');
    expect(validateBlocks(message.blocks)).toEqual([]);
  });

  it('honours --public (visibility) over the default', () => {
    expect(renderBlocks({ title: 't', status: 'ok', visibility: 'in_channel' }).response_type).toBe('in_channel');
    expect(renderBlocks({ title: 't', status: 'ok' }, 'in_channel').response_type).toBe('in_channel');
  });

  it('stays within every Block Kit limit however large the reply', () => {
    const long = 'q'.repeat(5000);
    const reply: Reply = {
      title: 'T'.repeat(400),
      status: 'fail',
      summary: '<'.repeat(4000), // escaping makes it 4× longer
      sections: Array.from({ length: 60 }, (_, i) => ({
        heading: `section ${i}`,
        text: long,
        fields: Array.from({ length: 23 }, (_, j) => ({ label: `f${j}`, value: long })),
        table: { columns: ['a', 'query'], rows: Array.from({ length: 200 }, () => ['1', long]) },
      })),
      notes: Array.from({ length: 40 }, () => long),
    };
    const message = renderBlocks(reply);
    expect(message.blocks.length).toBe(LIMITS.blocks);
    expect(validateBlocks(message.blocks)).toEqual([]);
    expect(JSON.stringify(message.blocks.at(-1))).toContain('more blocks left out');
  });

  it('splits a long table over several code sections instead of clipping rows away', () => {
    const rows = Array.from({ length: 300 }, (_, i) => [`queue-${i}`, `${i} waiting`]);
    const message = renderBlocks({ title: 'Queues', status: 'ok', sections: [{ heading: 'By state', table: { columns: ['queue', 'state'], rows } }] });
    const code = message.blocks.filter((b) => JSON.stringify(b).includes('```'));
    expect(code.length).toBeGreaterThan(1);
    expect(texts(code)).toContain('queue-299');
    expect(validateBlocks(message.blocks)).toEqual([]);
  });
});
