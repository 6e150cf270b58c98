import { describe, expect, it } from 'vitest';
import { renderJson, renderText } from '../../../src/render/text.ts';
import type { Reply } from '../../../src/core/reply.ts';

const reply: Reply = {
  title: 'Queues (2)',
  status: 'warn',
  summary: 'One queue needs a look.',
  sections: [
    { heading: 'By state', table: { columns: ['queue', 'failed'], rows: [['emails', '3'], ['webhooks-long-name', '0']], rowStatus: ['warn', 'ok'] } },
    { heading: 'Counts', fields: [{ label: 'Waiting', value: '4' }, { label: 'Oldest waiting', value: '3m' }] },
  ],
  notes: ['a note'],
  suggestions: [{ label: 'Inspect emails', command: '/queue emails' }],
  data: { queues: 2 },
};

describe('renderText', () => {
  it('puts the status tag first and aligns table columns', () => {
    const lines = renderText(reply).split('\n');
    expect(lines[0]).toBe('[WARN] Queues (2)');
    const header = lines.find((l) => l.includes('queue') && l.includes('failed')) ?? '';
    const emails = lines.find((l) => l.includes('emails')) ?? '';
    const webhooks = lines.find((l) => l.includes('webhooks-long-name')) ?? '';
    expect(emails).toContain('[WARN]');
    expect(webhooks).toContain('[ok]');
    expect(emails.indexOf('3')).toBe(webhooks.indexOf('0'));
    expect(header.indexOf('failed')).toBe(emails.lastIndexOf('3'));
    expect(renderText(reply)).toContain('Oldest waiting  3m');
    expect(renderText(reply)).toContain('choices (type the number):\n  1) Inspect emails: /queue emails');
  });
});

describe('renderJson', () => {
  it('prints the data payload as JSON, or the reply when there is none', () => {
    expect(JSON.parse(renderJson(reply))).toEqual({ queues: 2 });
    const { data: _data, ...bare } = reply;
    expect(JSON.parse(renderJson(bare)).title).toBe('Queues (2)');
  });
});
