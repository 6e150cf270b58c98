import type { CommandInfo } from './command.ts';
import type { Reply } from './reply.ts';

/** Every command with its usage, reachable as `/<name>` and as `/vigil <name>`. */
export function helpReply(commands: readonly CommandInfo[], problem?: string): Reply {
  return {
    title: 'Vigil commands',
    status: problem ? 'warn' : 'info',
    summary: problem
      ? `${problem} Here is what Vigil can do:`
      : 'Each command works as `/<name>` and as `/vigil <name>`.',
    sections: [
      {
        heading: 'Commands',
        table: {
          columns: ['command', 'what it shows'],
          rows: commands.map((c) => [`/${c.name} ${c.usage}`.trim(), c.summary]),
        },
      },
    ],
    notes: ['Add --public to post the answer in the channel, --json for machine-readable output (CLI), --help for one command.'],
  };
}

/** One command's usage, with what was wrong when the arguments did not parse. */
export function usageReply(command: CommandInfo, problem?: string): Reply {
  return {
    title: `/${command.name}`,
    status: problem ? 'warn' : 'info',
    summary: problem ? `Bad arguments: ${problem}` : command.summary,
    sections: [{ heading: 'Usage', text: `/${command.name} ${command.usage}`.trim() }],
  };
}
