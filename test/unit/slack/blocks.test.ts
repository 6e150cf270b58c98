import { describe, expect, it } from 'vitest';
import { RUN_COMMAND, type Form } from '../../../src/core/interactions.ts';
import { clip, escapeMrkdwn, LIMITS, renderBlocks, renderForm } from '../../../src/slack/blocks.ts';
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
      suggestions: [{ label: 'Inspect emails', command: '/queue emails' }],
    };
    const message = renderBlocks(reply);
    expect(message.response_type).toBe('ephemeral');
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Health: degraded' } });
    expect(texts(message.blocks)).toContain('queue &lt;emails&gt;');
    expect(texts(message.blocks)).toContain('3 waiting &amp; 1 failed');
    expect(message.text).toContain('Health: degraded');
    expect(validateBlocks(message.blocks)).toEqual([]);
    // The suggestion becomes a button that runs its command when pressed.
    expect(message.blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [{ type: 'button', action_id: `${RUN_COMMAND}#0`, text: { type: 'plain_text', text: 'Inspect emails', emoji: true }, value: '/queue emails' }],
    });
  });

  it('escapes the notification text, which Slack reads as mrkdwn too', () => {
    const message = renderBlocks({ title: 'Queue <!here>', status: 'fail', summary: 'No queue named "<!channel>" & co' });
    expect(message.text).toBe('Queue &lt;!here&gt;: No queue named "&lt;!channel&gt;" &amp; co');
  });

  it('draws buttons with style and confirm dialog, ids unique per message, within Slack limits', () => {
    const message = renderBlocks({
      title: 'Approve?',
      status: 'info',
      buttons: [
        { handler: 'approval.decide', label: 'Approve', value: 'approve:42', style: 'primary', confirm: { title: 'Restart the API?', text: 'x'.repeat(400), confirm: 'Yes, restart it now please, really', deny: 'No' } },
        { handler: 'approval.decide', label: 'D'.repeat(100), value: 'deny:42', style: 'danger' },
        { handler: 'approval.decide', label: 'Too much data', value: 'v'.repeat(2001) },
      ],
    });
    const actions = message.blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    const elements = actions[0]?.elements as Array<Record<string, unknown>>;
    expect(elements.map((e) => e.action_id)).toEqual(['approval.decide#0', 'approval.decide#1']);
    expect(elements.map((e) => e.style)).toEqual(['primary', 'danger']);
    expect(elements[0]?.confirm).toMatchObject({ title: { text: 'Restart the API?' }, deny: { text: 'No' } });
    expect(JSON.stringify(elements[0]?.confirm)).not.toContain('x'.repeat(300));
    expect((elements[1]?.text as { text: string }).text).toHaveLength(LIMITS.buttonText);
    // The third button's value is over 2000 characters: left out, and said so rather than rejected.
    expect(texts(message.blocks)).toContain('1 button(s) left out');
    expect(validateBlocks(message.blocks)).toEqual([]);
  });

  it('honours --public (visibility) over the default', () => {
    expect(renderBlocks({ title: 't', status: 'ok', visibility: 'channel' }).response_type).toBe('in_channel');
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
      buttons: Array.from({ length: 30 }, (_, i) => ({ handler: 'h', label: long, value: String(i) })),
    };
    const message = renderBlocks(reply);
    expect(message.blocks.length).toBe(LIMITS.blocks);
    expect(validateBlocks(message.blocks)).toEqual([]);
    expect(texts(message.blocks)).toContain('more blocks left out');
    // The buttons (an Approve, say) survive the cut: 30 of them in two actions blocks at the end.
    const actions = message.blocks.slice(-2);
    expect(actions.map((b) => (b.elements as unknown[]).length)).toEqual([25, 5]);
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

describe('renderForm', () => {
  const base = { handler: 'alerts.silence-form', title: 'Silence 1h', submit: 'Request', privateMetadata: '{"g":1}' };

  it('draws a text field as before: one plain-text input under the field id', () => {
    const modal = renderForm({ ...base, fields: [{ id: 'reason', label: 'Why?', hint: 'Shown to approvers', multiline: true, maxLength: 500 }] });
    expect(modal).toEqual({
      type: 'modal',
      callback_id: 'alerts.silence-form',
      private_metadata: '{"g":1}',
      title: { type: 'plain_text', text: 'Silence 1h' },
      submit: { type: 'plain_text', text: 'Request' },
      close: { type: 'plain_text', text: 'Cancel' },
      blocks: [
        {
          type: 'input',
          block_id: 'reason',
          label: { type: 'plain_text', text: 'Why?' },
          hint: { type: 'plain_text', text: 'Shown to approvers' },
          element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 500 },
        },
      ],
    });
  });

  it('shows the intro above the fields, and a choice as a static select with its preselection', () => {
    const form: Form = {
      ...base,
      intro: ['Silences env="prod" & <!here>, 3 alerts, for ', { user: 'U0ALICE' }],
      fields: [
        { id: 'scope', label: 'Silence', options: [{ value: 'group', label: 'The whole group' }, { value: 'a1', label: 'Only ApiDown <db1>' }], initial: 'a1' },
        { id: 'reason', label: 'Why?' },
      ],
    };
    const modal = renderForm(form);
    expect(modal.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'Silences env="prod" &amp; &lt;!here&gt;, 3 alerts, for <@U0ALICE>' } });
    const option = (value: string, text: string) => ({ text: { type: 'plain_text', text }, value });
    expect(modal.blocks[1]).toEqual({
      type: 'input',
      block_id: 'scope',
      label: { type: 'plain_text', text: 'Silence' },
      element: { type: 'static_select', action_id: 'value', options: [option('group', 'The whole group'), option('a1', 'Only ApiDown &lt;db1&gt;')], initial_option: option('a1', 'Only ApiDown &lt;db1&gt;') },
    });
    expect(modal.blocks[2]).toMatchObject({ type: 'input', block_id: 'reason', element: { type: 'plain_text_input' } });
    expect(validateBlocks(modal.blocks)).toEqual([]);
    // Without a preselection that is one of the options, Slack shows none chosen.
    const unset = renderForm({ ...form, fields: [{ ...(form.fields[0] as Form['fields'][number]), initial: 'nope' }] });
    expect(unset.blocks[1]?.element).not.toHaveProperty('initial_option');
  });

  it('keeps a choice and the intro within Slack limits', () => {
    const options = Array.from({ length: 120 }, (_, i) => ({ value: `v${i}`, label: `${'L'.repeat(100)}${i}` }));
    options.splice(3, 0, { value: 'x'.repeat(LIMITS.optionValue + 1), label: 'too long a value' }, { value: '', label: 'no value' });
    const modal = renderForm({ ...base, intro: '<'.repeat(1000), fields: [{ id: 'pick', label: 'Pick', options, initial: 'x'.repeat(LIMITS.optionValue + 1) }] });
    const select = modal.blocks[1]?.element as { options: Array<{ text: { text: string }; value: string }>; initial_option?: unknown };
    expect(select.options).toHaveLength(LIMITS.selectOptions);
    expect(select.options.map((o) => o.value)).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`));
    expect(Math.max(...select.options.map((o) => o.text.text.length))).toBe(LIMITS.optionText);
    expect(select).not.toHaveProperty('initial_option');
    const intro = (modal.blocks[0]?.text as { text: string }).text;
    expect(intro.length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(intro).toMatch(/^(&lt;){700,}…$/);
    expect(validateBlocks(modal.blocks)).toEqual([]);
  });

  it('refuses to draw a choice without an option Slack can show', () => {
    expect(() => renderForm({ ...base, fields: [{ id: 'pick', label: 'Pick', options: [{ value: 'y'.repeat(151), label: 'y' }] }] })).toThrow(
      'form field pick: no option Slack can show (values are 1 to 150 characters)',
    );
  });

  it('the Slack stand-in refuses selects Slack refuses, so the checks above can fail', () => {
    const el = { type: 'static_select', action_id: 'value', options: [{ text: { type: 'plain_text', text: 'a' }, value: 'a' }] };
    expect(validateBlocks([{ type: 'input', block_id: 'p', element: { ...el, initial_option: { text: { type: 'plain_text', text: 'b' }, value: 'b' } } }])).toEqual([
      'blocks[0].element: initial_option is not one of the options',
    ]);
    expect(validateBlocks([{ type: 'input', block_id: 'p', element: { ...el, options: [{ text: { type: 'plain_text', text: 'x'.repeat(76) }, value: 'v'.repeat(151) }] } }])).toEqual([
      'blocks[0].element.options[0]: text must be 1 to 75 characters',
      'blocks[0].element.options[0]: value must be 1 to 150 characters',
    ]);
  });
});
