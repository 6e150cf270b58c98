/**
 * The access policy on its own: which invoker a rule lets through, where, with or without
 * `--public`, what a refusal says (the group as a reference Slack draws), and that a membership
 * Slack cannot confirm refuses. The member directory is a small fake of its interface; the real
 * one (Slack's usergroups.users.list) is exercised end to end in test/e2e/access-policy.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accessConfigSchema } from '../../../src/access/access-config.ts';
import type { Membership, MemberDirectory, People } from '../../../src/access/members.ts';
import { createAccessPolicy, unknownCommandRules, type AccessPolicy } from '../../../src/access/policy.ts';
import type { Invoker } from '../../../src/core/command.ts';
import { richTextString, type RichText } from '../../../src/core/reply.ts';
import type { Refusal } from '../../../src/core/refusal.ts';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { allCommands } from '../../../commands/index.ts';

const SRE = 'S0SRE';
const ONCALL = 'S0ONCALL';
const ALICE = 'U0ALICE'; // in @sre
const OSCAR = 'U0OSCAR'; // on call
const MALLORY = 'U0MALLORY'; // in no group
const OPS = 'C0OPS';
const WAR = 'C0WARROOM';
const ELSEWHERE = 'C0RANDOM';

/** Groups as Slack would list them; a group in `unlisted` is one Slack cannot list (`unknown`). */
function fakeMembers(groups: Record<string, string[]>, unlisted: string[] = []): MemberDirectory & { asked: People[] } {
  const asked: People[] = [];
  async function membership(userId: string, people: People): Promise<Membership> {
    asked.push(people);
    if (people.users.includes(userId)) return 'member';
    let unknown = false;
    for (const g of people.groups) {
      if (unlisted.includes(g)) unknown = true;
      else if ((groups[g] ?? []).includes(userId)) return 'member';
    }
    return unknown ? 'unknown' : 'not_member';
  }
  return { asked, membership, isApprover: async (u, p) => (await membership(u, p)) === 'member' };
}

const slack = (userId: string, channelId?: string): Invoker => ({ surface: 'slack', userId, ...(channelId ? { channelId } : {}) });
const shell = (userId: string): Invoker => ({ surface: 'shell', userId });

function policyOf(access: unknown, members: MemberDirectory = fakeMembers({ [SRE]: [ALICE], [ONCALL]: [OSCAR] })): AccessPolicy {
  return createAccessPolicy(accessConfigSchema.parse(access), members);
}

/** The refusal's message as Slack draws it: groups `<!subteam^S…>`, channels `<#C…>`, users `<@U…>`. */
function slackText(message: RichText): string {
  return richTextString(message, (r) => ('channel' in r ? `<#${r.channel}>` : 'user' in r ? `<@${r.user}>` : `<!subteam^${r.userGroup}>`));
}

function refused(r: Refusal | null): Refusal {
  if (r === null) throw new Error('expected a refusal, got null (allowed)');
  return r;
}

const command = (name: string, asPublic = false) => ({ kind: 'command' as const, name, public: asPublic });

describe('createAccessPolicy: commands', () => {
  const policy = policyOf({
    commands: {
      audit: { groups: [SRE] },
      queue: { users: [MALLORY] },
      slowqueries: { groups: [SRE, ONCALL], channels: [OPS] },
      alerts: { channels: [OPS, WAR] },
      run: { groups: [SRE], publicIn: [WAR] },
    },
  });

  it('leaves a command without a rule open to anyone, anywhere, --public too', async () => {
    expect(await policy.check(command('health'), slack(MALLORY, ELSEWHERE))).toBeNull();
    expect(await policy.check(command('health', true), slack(MALLORY, ELSEWHERE))).toBeNull();
    expect(await policy.check(command('health'), shell('mallory'))).toBeNull();
  });

  it('a group rule lets its members in and refuses anyone else, naming the group as a user-group reference', async () => {
    expect(await policy.check(command('audit'), slack(ALICE, ELSEWHERE))).toBeNull();
    const r = refused(await policy.check(command('audit'), slack(MALLORY, ELSEWHERE)));
    expect(r.rule).toBe('access.commands.audit');
    expect(r.message).toContainEqual({ userGroup: SRE });
    expect(richTextString(r.message)).toBe('/audit is for members of @S0SRE.');
    expect(slackText(r.message)).toBe('/audit is for members of <!subteam^S0SRE>.');
    // On call is not @sre.
    expect(await policy.check(command('audit'), slack(OSCAR))).not.toBeNull();
  });

  it('a users rule lets exactly those users in, without asking about groups', async () => {
    expect(await policy.check(command('queue'), slack(MALLORY))).toBeNull();
    const r = refused(await policy.check(command('queue'), slack(ALICE)));
    expect(r.rule).toBe('access.commands.queue');
    expect(slackText(r.message)).toBe('/queue is for <@U0MALLORY>.');
  });

  it('a rule with channels answers only there: the right channel passes, another or none (the terminal) is refused', async () => {
    expect(await policy.check(command('slowqueries'), slack(ALICE, OPS))).toBeNull();
    expect(await policy.check(command('slowqueries'), slack(OSCAR, OPS))).toBeNull();
    const wrong = refused(await policy.check(command('slowqueries'), slack(ALICE, ELSEWHERE)));
    expect(wrong.rule).toBe('access.commands.slowqueries');
    expect(slackText(wrong.message)).toBe('/slowqueries answers only in <#C0OPS>. Run it there.');
    const terminal = refused(await policy.check(command('slowqueries'), shell(ALICE)));
    expect(richTextString(terminal.message)).toBe('/slowqueries answers only in #C0OPS, in Slack.');
    // A non-member in the right channel is refused for who they are, told who and where.
    const outsider = refused(await policy.check(command('slowqueries'), slack(MALLORY, OPS)));
    expect(slackText(outsider.message)).toBe('/slowqueries is for members of <!subteam^S0SRE> or <!subteam^S0ONCALL> in <#C0OPS>.');
  });

  it('a channel-only rule lets anyone in those channels, and refuses elsewhere', async () => {
    expect(await policy.check(command('alerts'), slack(MALLORY, WAR))).toBeNull();
    const r = refused(await policy.check(command('alerts'), slack(MALLORY, ELSEWHERE)));
    expect(slackText(r.message)).toBe('/alerts answers only in <#C0OPS> or <#C0WARROOM>. Run it there.');
  });
});

describe('createAccessPolicy: --public', () => {
  const policy = policyOf({
    commands: {
      audit: { groups: [SRE] },
      slowqueries: { groups: [SRE], channels: [OPS, WAR] },
      alerts: { channels: [OPS] },
      queue: { users: [ALICE], publicIn: [WAR] },
      run: { groups: [SRE], channels: [OPS, WAR], publicIn: [WAR] },
    },
  });

  it('a rule naming who, without channels, allows --public nowhere', async () => {
    expect(await policy.check(command('audit'), slack(ALICE, OPS))).toBeNull();
    const r = refused(await policy.check(command('audit', true), slack(ALICE, OPS)));
    expect(r.rule).toBe('access.commands.audit.publicIn');
    expect(richTextString(r.message)).toBe('/audit --public is not allowed: its answer is only for the people it is for. Run it without --public.');
  });

  it('a rule with channels allows --public in those channels only', async () => {
    expect(await policy.check(command('slowqueries', true), slack(ALICE, WAR))).toBeNull();
    expect(await policy.check(command('slowqueries', true), slack(ALICE, OPS))).toBeNull();
  });

  it('a channel-only rule allows --public wherever it answers', async () => {
    expect(await policy.check(command('alerts', true), slack(MALLORY, OPS))).toBeNull();
  });

  it('publicIn overrides the default: here for a users rule, narrower than channels for a channel rule', async () => {
    expect(await policy.check(command('queue', true), slack(ALICE, WAR))).toBeNull();
    const queue = refused(await policy.check(command('queue', true), slack(ALICE, OPS)));
    expect(queue.rule).toBe('access.commands.queue.publicIn');
    expect(slackText(queue.message)).toBe('/queue --public is allowed only in <#C0WARROOM>. Run it without --public here.');
    expect(await policy.check(command('run', true), slack(ALICE, WAR))).toBeNull();
    expect(await policy.check(command('run'), slack(ALICE, OPS))).toBeNull();
    expect(refused(await policy.check(command('run', true), slack(ALICE, OPS))).rule).toBe('access.commands.run.publicIn');
  });
});

describe('createAccessPolicy: membership Slack cannot confirm', () => {
  it('refuses (fails closed), saying Slack could not confirm, and still names the group', async () => {
    const policy = policyOf({ commands: { audit: { groups: [SRE] } } }, fakeMembers({}, [SRE]));
    const r = refused(await policy.check(command('audit'), slack(ALICE, OPS)));
    expect(r.rule).toBe('access.commands.audit');
    expect(slackText(r.message)).toContain('/audit is for members of <!subteam^S0SRE>');
    expect(richTextString(r.message)).toContain('Slack could not confirm your membership');
  });

  it('a listed user is let in even while their group cannot be listed; a member of another listed group too', async () => {
    const policy = policyOf({ commands: { audit: { users: [OSCAR], groups: [SRE, ONCALL] } } }, fakeMembers({ [ONCALL]: [ALICE] }, [SRE]));
    expect(await policy.check(command('audit'), slack(OSCAR))).toBeNull();
    expect(await policy.check(command('audit'), slack(ALICE))).toBeNull();
    expect(richTextString(refused(await policy.check(command('audit'), slack(MALLORY))).message)).toContain('Slack could not confirm');
  });
});

describe('createAccessPolicy: actions and alert messages', () => {
  it('an action with requesters admits only them, anywhere; one without is open', async () => {
    const policy = policyOf({});
    const requesters = { users: [], groups: [ONCALL] };
    expect(await policy.check({ kind: 'action.request', action: 'restart-api', requesters }, slack(OSCAR, ELSEWHERE))).toBeNull();
    expect(await policy.check({ kind: 'action.request', action: 'restart-api', requesters }, shell(OSCAR))).toBeNull();
    const r = refused(await policy.check({ kind: 'action.request', action: 'restart-api', requesters }, slack(ALICE, OPS)));
    expect(r.rule).toBe('actions.catalog.restart-api.requesters');
    expect(slackText(r.message)).toBe('Requesting restart-api is for members of <!subteam^S0ONCALL>.');
    expect(await policy.check({ kind: 'action.request', action: 'restart-api', requesters: null }, slack(MALLORY))).toBeNull();
  });

  it('an action without requesters is for whoever may run /run: its rule (who, not where) applies to requests from buttons too', async () => {
    const policy = policyOf({ commands: { run: { groups: [ONCALL], channels: [OPS] } } });
    const subject = { kind: 'action.request' as const, action: 'flush-cache', requesters: null };
    // A runbook button on an alert message sits in the alerts channel, a form has no channel at all.
    expect(await policy.check(subject, slack(OSCAR, ELSEWHERE))).toBeNull();
    expect(await policy.check(subject, shell(OSCAR))).toBeNull();
    const r = refused(await policy.check(subject, slack(ALICE, OPS)));
    expect(r.rule).toBe('access.commands.run');
    expect(slackText(r.message)).toBe('Requesting flush-cache is for members of <!subteam^S0ONCALL>.');
    // The action's own requesters, when listed, decide instead.
    expect(await policy.check({ ...subject, requesters: { users: [ALICE], groups: [] } }, slack(ALICE, ELSEWHERE))).toBeNull();
  });

  it('an unconfirmable requester group refuses the request', async () => {
    const policy = policyOf({}, fakeMembers({}, [ONCALL]));
    const r = refused(await policy.check({ kind: 'action.request', action: 'restart-api', requesters: { users: [], groups: [ONCALL] } }, slack(OSCAR)));
    expect(richTextString(r.message)).toContain('Slack could not confirm');
  });

  it("capability('alerts.acknowledge') applies access.alerts.acknowledge, open without it", async () => {
    const open = policyOf({});
    expect(await open.capability('alerts.acknowledge', slack(MALLORY))).toBeNull();
    const policy = policyOf({ alerts: { acknowledge: { groups: [ONCALL] } } });
    expect(await policy.capability('alerts.acknowledge', slack(OSCAR, ELSEWHERE))).toBeNull();
    const r = refused(await policy.capability('alerts.acknowledge', slack(ALICE, ELSEWHERE)));
    expect(r.rule).toBe('access.alerts.acknowledge');
    expect(slackText(r.message)).toBe('Acting on alert messages is for members of <!subteam^S0ONCALL>.');
  });

  it("capability('reports.checklist') applies the rule of /report (who and where), open without it", async () => {
    expect(await policyOf({}).capability('reports.checklist', slack(MALLORY))).toBeNull();
    const policy = policyOf({ commands: { report: { groups: [ONCALL], channels: [OPS] } } });
    expect(await policy.capability('reports.checklist', slack(OSCAR, OPS))).toBeNull();
    expect(refused(await policy.capability('reports.checklist', slack(ALICE, OPS))).rule).toBe('access.commands.report');
    expect(refused(await policy.capability('reports.checklist', slack(OSCAR, ELSEWHERE))).rule).toBe('access.commands.report');
  });

  it('an unknown capability is a bug and throws, rather than allowing', async () => {
    const policy = policyOf({ alerts: { acknowledge: { groups: [ONCALL] } } });
    await expect(policy.capability('alerts.delete', slack(OSCAR))).rejects.toThrow(/No access rule is known as "alerts.delete"/);
  });

  it('does not ask about groups for a command no rule names', async () => {
    const members = fakeMembers({ [SRE]: [ALICE] });
    const policy = policyOf({ commands: { audit: { groups: [SRE] } } }, members);
    await policy.check(command('health'), slack(MALLORY));
    expect(members.asked).toEqual([]);
    await policy.check(command('audit'), slack(MALLORY));
    expect(members.asked).toEqual([{ users: [], groups: [SRE] }]);
  });
});

describe('access rules in the config', () => {
  it('a rule naming nobody and no channel is refused by the schema', () => {
    const parsed = accessConfigSchema.safeParse({ commands: { audit: {} } });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('names nobody and no channel');
  });

  it('unknownCommandRules names a rule for a command Vigil does not have, and only that one', () => {
    const cfg = accessConfigSchema.parse({ commands: { audti: { groups: [SRE] }, audit: { groups: [SRE] } } });
    const problems = unknownCommandRules(cfg, allCommands.map((c) => c.name));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^access\.commands\.audti: Vigil has no command \/audti \(it has .*\/audit/);
    expect(unknownCommandRules(accessConfigSchema.parse({ commands: { audit: { groups: [SRE] } } }), allCommands.map((c) => c.name))).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'vigil-access-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loadConfig refuses access.commands.audti with a ConfigError naming it', () => {
    const path = join(dir, 'typo.yaml');
    writeFileSync(path, 'access:\n  commands:\n    audti: { groups: [S0SRE] }\n');
    let error: unknown;
    try {
      loadConfig({ VIGIL_CONFIG: path }, dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringContaining(`${path}: access.commands.audti: Vigil has no command /audti`)]);
  });

  it('loadConfig takes a valid access section as written', () => {
    const path = join(dir, 'good.yaml');
    writeFileSync(path, 'access:\n  commands:\n    audit: { groups: [S0SRE] }\n  alerts:\n    acknowledge: { groups: [S0ONCALL] }\n  terminalUsers: { alice: U0ALICE }\n');
    const config = loadConfig({ VIGIL_CONFIG: path }, dir);
    expect(config.file.access.commands.audit).toEqual({ users: [], groups: [SRE], channels: [] });
    expect(config.file.access.alerts.acknowledge?.groups).toEqual([ONCALL]);
    expect(config.file.access.terminalUsers).toEqual({ alice: ALICE });
  });
});
