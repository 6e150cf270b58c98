import { z } from 'zod';
import { defineCommand, type Command, type CommandInfo } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import type { OptionSpec } from '../src/core/args.ts';
import type { Reply } from '../src/core/reply.ts';
import type { Invoker } from '../src/core/command.ts';

/** What /run lists for each action. */
export interface ActionSummary {
  id: string;
  title: string;
  risk: 'low' | 'high';
  /** `--service api|worker`, … */
  usage: string;
  approval: string;
}

export interface RunCommandDeps {
  actions: {
    list(): ActionSummary[];
    request(actionId: string, params: Record<string, unknown>, reason: string | null, invoker: Invoker): Promise<Reply>;
  } | null;
  missing: string | undefined;
}

const runInfo: CommandInfo = {
  name: 'run',
  summary: 'Request an approved action (restart, retry failed jobs, silence …); /run alone lists them',
  usage: '[action] [--param value …] [--reason "…"]',
};

/**
 * `/run <action> --param value …`: a request, never a run. The parameters an action takes come
 * from the catalog, so the options are built per catalog; every value is validated by the
 * action's own schema (enums from the config), never passed on as free text.
 */
export function runCommand(paramNames: readonly string[]): Command<unknown, RunCommandDeps> {
  const options: OptionSpec = { reason: { type: 'string' } };
  for (const name of paramNames) if (name !== 'reason') options[name] = { type: 'string' };
  const optionValues = z.record(z.string(), z.union([z.string(), z.boolean(), z.array(z.string())]).optional());
  return defineCommand<{ action?: string; params: Record<string, string>; reason: string | null }, RunCommandDeps>({
    ...runInfo,
    options,
    args: z
      .object({ positionals: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,60}$/, 'an action id is lower-case letters, digits and dashes')).max(1, 'takes one action id') })
      .catchall(optionValues.valueType)
      .transform(({ positionals, reason, ...rest }) => ({
        ...(positionals[0] !== undefined ? { action: positionals[0] } : {}),
        reason: typeof reason === 'string' && reason.trim() !== '' ? reason.trim().slice(0, 500) : null,
        params: Object.fromEntries(Object.entries(rest).filter((e): e is [string, string] => typeof e[1] === 'string')),
      })),
    async run(args, { deps, invoker }): Promise<Reply> {
      const actions = requireDep(deps.actions, 'Approved actions', deps.missing);
      if (args.action === undefined) return listing(actions.list());
      return actions.request(args.action, args.params, args.reason, invoker);
    },
  });
}

/** As listed in the registry: the actions feature binds it with its catalog's parameters. */
export default runCommand([]);

function listing(actions: ActionSummary[]): Reply {
  if (actions.length === 0) return { title: 'Actions', status: 'info', summary: 'No actions are configured (actions.catalog in manifests/vigil.yaml).' };
  return {
    title: `Actions (${actions.length})`,
    status: 'info',
    summary: 'Ask for one with /run <action> --param value; an approver decides in the approvals channel.',
    sections: [
      {
        heading: 'Catalog',
        table: { columns: ['action', 'what', 'risk', 'approval', 'parameters'], rows: actions.map((a) => [a.id, a.title, a.risk, a.approval, a.usage || '–']) },
      },
    ],
    data: actions,
  };
}
