import type { Invoker } from '../core/command.ts';
import type { Ref } from '../core/reply.ts';
import type { Refusal } from '../core/refusal.ts';
import type { AccessConfig, AccessRule } from './access-config.ts';
import type { MemberDirectory, People } from './members.ts';

/** What is asked for: a command (and whether its answer goes to the channel), a capability, an action. */
export type AccessSubject =
  | { kind: 'command'; name: string; public: boolean }
  | { kind: 'alerts.acknowledge' }
  | { kind: 'action.request'; action: string; requesters: People | null };

export interface AccessPolicy {
  /** Null when allowed. */
  check(subject: AccessSubject, invoker: Invoker): Promise<Refusal | null>;
  /**
   * A click's `access` name (`alerts.acknowledge`) checked for the clicker. Buttons that request an
   * action need none: the request itself checks who may ask (`requesters`, else /run's rule).
   * An unknown name is a bug and throws.
   */
  capability(name: string, invoker: Invoker): Promise<Refusal | null>;
}

/** Rules for commands Vigil does not have: a typo there would leave the real command open. */
export function unknownCommandRules(cfg: AccessConfig, commandNames: readonly string[]): string[] {
  return Object.keys(cfg.commands)
    .filter((name) => !commandNames.includes(name))
    .map((name) => `access.commands.${name}: Vigil has no command /${name} (it has ${commandNames.map((n) => `/${n}`).join(', ')})`);
}

/**
 * `access:` from the YAML config, checked at the edge of every command, click and form. No rule:
 * allowed (Vigil's behaviour before policies). Fails closed: membership Slack cannot confirm is a
 * refusal that says so.
 */
export function createAccessPolicy(cfg: AccessConfig, members: MemberDirectory): AccessPolicy {
  async function checkRule(rule: AccessRule, key: string, what: string, invoker: Invoker, asPublic: boolean): Promise<Refusal | null> {
    const who: People = { users: rule.users, groups: rule.groups };
    const namesWho = who.users.length + who.groups.length > 0;
    if (namesWho) {
      const membership = await members.membership(invoker.userId, who);
      if (membership === 'unknown') {
        return refuse(key, [`${what} is for `, ...peopleText(who), '. Slack could not confirm your membership just now, so nothing was shown; try again in a minute.']);
      }
      if (membership === 'not_member') return refuse(key, [`${what} is for `, ...peopleText(who), ...channelsText(rule.channels), '.']);
    }
    if (rule.channels.length > 0 && !(invoker.channelId && rule.channels.includes(invoker.channelId))) {
      return refuse(key, [`${what} answers only`, ...channelsText(rule.channels), invoker.surface === 'slack' ? '. Run it there.' : ', in Slack.']);
    }
    if (asPublic) {
      const publicIn = rule.publicIn ?? (rule.channels.length > 0 ? rule.channels : namesWho ? [] : null);
      if (publicIn !== null && !(invoker.channelId && publicIn.includes(invoker.channelId))) {
        return refuse(
          `${key}.publicIn`,
          publicIn.length === 0
            ? `${what} --public is not allowed: its answer is only for the people it is for. Run it without --public.`
            : [`${what} --public is allowed only`, ...channelsText(publicIn), '. Run it without --public here.'],
        );
      }
    }
    return null;
  }

  const policy: AccessPolicy = {
    async capability(name, invoker) {
      if (name === 'alerts.acknowledge') return policy.check({ kind: 'alerts.acknowledge' }, invoker);
      // A report's checklist: whoever may run /report may tick its items (access.commands.report).
      if (name === 'reports.checklist') return policy.check({ kind: 'command', name: 'report', public: false }, invoker);
      throw new Error(`No access rule is known as "${name}"`);
    },
    async check(subject, invoker) {
      switch (subject.kind) {
        case 'command': {
          const rule = Object.hasOwn(cfg.commands, subject.name) ? cfg.commands[subject.name] : undefined;
          return rule ? checkRule(rule, `access.commands.${subject.name}`, `/${subject.name}`, invoker, subject.public) : null;
        }
        case 'alerts.acknowledge': {
          const rule = cfg.alerts.acknowledge;
          return rule ? checkRule(rule, 'access.alerts.acknowledge', 'Acting on alert messages', invoker, false) : null;
        }
        case 'action.request': {
          if (!subject.requesters) {
            // Unset: whoever may run /run, also from a button (runbook, Retry failed) or a form that
            // requests without /run. Who, not where: such a button sits outside /run's channels.
            const run = Object.hasOwn(cfg.commands, 'run') ? cfg.commands.run : undefined;
            return run ? checkRule({ users: run.users, groups: run.groups, channels: [] }, 'access.commands.run', `Requesting ${subject.action}`, invoker, false) : null;
          }
          const rule: AccessRule = { ...subject.requesters, users: [...subject.requesters.users], groups: [...subject.requesters.groups], channels: [] };
          return checkRule(rule, `actions.catalog.${subject.action}.requesters`, `Requesting ${subject.action}`, invoker, false);
        }
      }
    },
  };
  return policy;
}

function refuse(rule: string, message: Refusal['message']): Refusal {
  return { rule, message };
}

/** `@alice, members of @sre or @oncall`: people as references the transport draws. */
function peopleText(who: People): Array<string | Ref> {
  const parts: Array<string | Ref> = [];
  who.users.forEach((user, i) => parts.push(...(i > 0 ? [', '] : []), { user }));
  if (who.groups.length > 0) {
    parts.push(who.users.length > 0 ? ' and members of ' : 'members of ');
    who.groups.forEach((userGroup, i) => parts.push(...(i > 0 ? [i === who.groups.length - 1 ? ' or ' : ', '] : []), { userGroup }));
  }
  return parts;
}

/** ` in #ops or #sre`, or nothing for no channels. */
function channelsText(channels: readonly string[]): Array<string | Ref> {
  if (channels.length === 0) return [];
  const parts: Array<string | Ref> = [' in '];
  channels.forEach((channel, i) => parts.push(...(i > 0 ? [i === channels.length - 1 ? ' or ' : ', '] : []), { channel }));
  return parts;
}
