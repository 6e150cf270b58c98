/**
 * Hostile text through every surface Vigil renders for Slack: replies (blocks and the notification
 * text), alert messages, approval messages, and the messages handed to the outbox. Slack reads
 * `<!here>`, `<@U…>` and `<url|label>` as pings and links wherever it shows text, so none of them
 * may arrive raw when it came from a user, a probe or an alert; Vigil's own markup (a configured
 * user group, a channel link) must arrive intact.
 */
import { describe, expect, it } from 'vitest';
import { applyNotification, type AlertGroup } from '../../../src/alerts/group.ts';
import { escalationBanner, escalationReply, groupMessage, replyMessage } from '../../../src/alerts/group-messages.ts';
import { renderChannelMessage } from '../../../src/slack/channel-message.ts';
import { stormReply } from '../../../src/alerts/storm.ts';
import { approvalReply, resultText, resultThread } from '../../../src/actions/messages.ts';
import type { ActionRequest } from '../../../src/actions/request.ts';
import type { Reply } from '../../../src/core/reply.ts';
import { renderBlocks, renderForm, renderModal } from '../../../src/slack/blocks.ts';
import type { OutboxMessage } from '../../../src/slack/outbox/types.ts';
import { validateBlocks } from '../../support/slack-api-server.ts';
import { alert, CFG, snapshot, T0 } from '../alerts/fixtures.ts';

/** Everything an attacker would like Slack to parse, and a literal entity that must stay literal. */
const EVIL = 'x <!here> <@U123> &amp; <https://evil|click>';
/** How EVIL must arrive: each of `& < >` escaped once, so Slack shows exactly what was typed. */
const EVIL_ESCAPED = 'x &lt;!here&gt; &lt;@U123&gt; &amp;amp; &lt;https://evil|click&gt;';

/** Keys whose strings Slack never shows as text (data handed back, links, ids). */
const NOT_SHOWN = new Set(['value', 'url', 'action_id', 'block_id', 'callback_id', 'private_metadata', 'type']);

/** Every string Slack would show: the notification text and each text in the blocks, nested included. */
function shownTexts(message: { text?: string; blocks?: unknown }): string[] {
  const out: string[] = message.text === undefined ? [] : [message.text];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    for (const [key, child] of Object.entries(v)) {
      if (NOT_SHOWN.has(key)) continue;
      if (typeof child === 'string') out.push(child);
      else walk(child);
    }
  };
  walk(message.blocks);
  return out;
}

/**
 * No raw `<` or `>` but Vigil's own `allowed` markup, no `&` that is not one of the three
 * entities, and the hostile text present in its escaped form (so it was escaped, not dropped).
 */
function expectEscaped(message: { text?: string; blocks?: unknown }, allowed: string[] = []): void {
  const texts = shownTexts(message);
  for (const text of texts) {
    const rest = allowed.reduce((t, markup) => t.split(markup).join(''), text);
    expect(rest, `raw markup in ${JSON.stringify(text)}`).not.toMatch(/[<>]/);
    expect(rest, `unescaped & in ${JSON.stringify(text)}`).not.toMatch(/&(?!amp;|lt;|gt;)/);
    for (const raw of ['<!here>', '<@U123>', '<https://evil|click>']) expect(text).not.toContain(raw);
  }
  expect(texts.join('\n')).toContain('&amp;amp;');
}

describe('replies (blocks and notification text)', () => {
  const reply: Reply = {
    title: `Queue ${EVIL}`,
    status: 'fail',
    summary: `No queue named ${EVIL}`,
    sections: [{ heading: EVIL, text: EVIL, fields: [{ label: EVIL, value: EVIL }], table: { columns: ['name', 'state'], rows: [[EVIL, EVIL]] } }],
    notes: [EVIL],
    buttons: [{ handler: 'h', label: EVIL, value: EVIL, confirm: { title: EVIL, text: EVIL, confirm: 'Go <!here>', deny: 'No & no' } }],
    suggestions: [{ label: `Inspect ${EVIL}`, command: '/queue x' }],
    links: [{ label: EVIL, url: 'https://runbooks.example/q?a=1&b=2' }],
    visibility: 'channel',
  };

  it('escapes the header, summary, sections, fields, table, notes, button labels and confirm dialogs', () => {
    const message = renderBlocks(reply);
    expectEscaped(message);
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: `Queue ${EVIL_ESCAPED}` } });
    expect(validateBlocks(message.blocks)).toEqual([]);
  });

  it('escapes the notification text of an in-channel answer (what /queue <!here> --public sends)', () => {
    const message = renderBlocks(reply);
    expect(message.response_type).toBe('in_channel');
    expect(message.text).toBe(`Queue ${EVIL_ESCAPED}: No queue named ${EVIL_ESCAPED}`);
  });

  it('hands button values and link URLs back as they were: data, never shown', () => {
    const json = JSON.stringify(renderBlocks(reply).blocks);
    expect(json).toContain(JSON.stringify(EVIL));
    expect(json).toContain('"url":"https://runbooks.example/q?a=1&b=2"');
  });

  it('escapes forms (modal title, labels, hints) and modals showing a reply', () => {
    const form = renderForm({ handler: 'f', title: '<!here>', submit: 'Go & run', privateMetadata: EVIL, fields: [{ id: 'reason', label: EVIL, hint: EVIL }] });
    expectEscaped({ blocks: [form] });
    expect(form.private_metadata).toBe(EVIL);
    expectEscaped({ blocks: [renderModal(reply)] });
  });
});

function alertGroup(): AlertGroup {
  const evilAlert = alert(EVIL, 'firing', {
    labels: { alertname: `Disk${EVIL}`, severity: 'critical', instance: EVIL, team: EVIL },
    annotations: { summary: EVIL, description: EVIL, runbook_url: 'https://runbooks.example/disk?a=1&b=<2>' },
  });
  const applied = applyNotification(
    null,
    snapshot([evilAlert], { commonLabels: evilAlert.labels, commonAnnotations: evilAlert.annotations, groupLabels: { alertname: `Disk${EVIL}` } }),
    { groupId: 'g1', notificationId: 1, now: T0, cfg: CFG },
  );
  if ('superseded' in applied) throw new Error('superseded');
  return { ...applied.next, ackedBy: EVIL, ackedAt: T0 + 1000 };
}

describe('alert messages', () => {
  it('escapes labels, annotations and who acknowledged, and keeps the configured mention and banner', () => {
    const message = renderChannelMessage(groupMessage(alertGroup(), T0 + 60_000, { mention: 'S0ONCALL', banner: escalationBanner(15, 'C0CRIT') }));
    expectEscaped(message, ['<!subteam^S0ONCALL>', '<#C0CRIT>']);
    expect(message.text.startsWith('<!subteam^S0ONCALL> ⏰ Escalated: not acknowledged after 15 min (in <#C0CRIT>). ')).toBe(true);
    expect(validateBlocks(message.blocks)).toEqual([]);
  });

  it('escapes the storm summary, which lists alert names', () => {
    const g = alertGroup();
    expectEscaped(renderBlocks(stormReply(T0, null, [g, { ...g, groupId: 'g2' }], T0 + 60_000), 'in_channel'));
  });
});

function actionRequest(over: Partial<ActionRequest> = {}): ActionRequest {
  return {
    id: 'req-abcdefabcdef',
    action: 'restart-api',
    params: { service: EVIL },
    preview: `systemctl restart ${EVIL}`,
    risk: 'high',
    state: 'requested',
    reason: EVIL,
    requestedBy: 'U0ALICE',
    requestedByName: EVIL,
    channel: 'C0OPS',
    approvalsNeeded: 2,
    approvals: [{ userId: 'U0BOB', name: EVIL, at: new Date(T0).toISOString() }],
    decidedBy: null,
    decidedAt: null,
    expiresAt: T0 + 900_000,
    createdAt: T0,
    startedAt: null,
    finishedAt: null,
    summary: EVIL,
    output: null,
    messageKey: null,
    version: 1,
    ...over,
  };
}

describe('approval messages', () => {
  it('escapes who asks, the preview (also in the Approve confirm dialog), the reason and approvers', () => {
    const message = renderBlocks(approvalReply(actionRequest(), `Restart ${EVIL}`), 'in_channel');
    expectEscaped(message);
    const approve = JSON.stringify(message.blocks.filter((b) => b.type === 'actions'));
    expect(approve).toContain(`This runs: systemctl restart ${EVIL_ESCAPED}`);
    expect(validateBlocks(message.blocks)).toEqual([]);
  });

  it('escapes every later state the message is replaced with', () => {
    for (const state of ['denied', 'succeeded', 'failed', 'interrupted'] as const) {
      expectEscaped(renderBlocks(approvalReply(actionRequest({ state, decidedBy: EVIL }), EVIL), 'in_channel'));
    }
  });
});

describe('outbox text (thread replies and posts Vigil starts itself)', () => {
  const messages: Array<[string, OutboxMessage]> = [
    ['alert thread reply', renderChannelMessage(replyMessage([`🔥 Firing: instance=${EVIL}`, `✅ Resolved: ${EVIL}`]))],
    ['action result in the thread', renderChannelMessage(resultThread(actionRequest({ state: 'failed', startedAt: T0, finishedAt: T0 + 1000, output: `line 1\n${EVIL}\n\`\`\`` })))],
    ['action result without output', renderChannelMessage(resultThread(actionRequest({ state: 'succeeded' })))],
    ['user name and a forged channel id in a thread reply', renderChannelMessage({ text: [`⛔ Denied by ${EVIL}, see `, { channel: EVIL }, ' and ', { user: EVIL }] })],
  ];
  for (const [name, message] of messages) {
    it(`escapes the ${name}`, () => expectEscaped(message));
  }

  it('keeps the escalation reply’s own mention and channel link (config, not alert text)', () => {
    const message = renderChannelMessage(escalationReply(15, 'C0ESC', 'S0ONCALL'));
    expect(message.text).toBe('<!subteam^S0ONCALL> ⏰ Not acknowledged after 15 min: escalated to <#C0ESC>.');
  });

  it('draws references with real ids as Slack links and mentions, and nothing else', () => {
    const message = renderChannelMessage({ text: ['see ', { channel: 'C0OPS' }, ', ask ', { user: 'U0BOB' }, ' or ', { userGroup: 'S0SRE' }] });
    expect(message.text).toBe('see <#C0OPS>, ask <@U0BOB> or <!subteam^S0SRE>');
  });

  it('the result text itself stays unescaped for the shell, which shows it as typed', () => {
    expect(resultText(actionRequest({ state: 'succeeded' }))).toContain(EVIL);
  });
});
