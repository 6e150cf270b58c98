import type { Dispatcher } from './dispatch.ts';
import { AppError } from './errors.ts';
import { RUN_COMMAND, type InteractionHandler } from './interactions.ts';

/**
 * Pressing a suggestion runs its command as the person who pressed it, exactly as if they had
 * typed it: same dispatcher, same argument checks, same audit row. Nothing more is allowed than typing.
 */
export function suggestionHandler(dispatcher: Dispatcher): InteractionHandler {
  return {
    id: RUN_COMMAND,
    async handle(interaction) {
      if (interaction.kind !== 'button') throw new AppError('stale', 'This form cannot run a command.');
      const [slash = '', ...rest] = interaction.value.trim().split(/\s+/);
      if (!slash.startsWith('/')) throw new AppError('stale', 'This button does not name a command.');
      const { reply } = await dispatcher.dispatch(slash, rest.join(' '), interaction.invoker);
      return { reply };
    },
  };
}
