import type { Config } from '../config/load.ts';
import { createContainer } from '../container.ts';
import { describeError } from '../core/errors.ts';
import { EXIT } from '../core/exit-codes.ts';
import { actionsFeature } from '../features/actions.ts';
import type { Logger } from '../log.ts';

/** Vigil's own secrets a runner has no use for: in its environment, an action could read them. */
export const NOT_FOR_THE_RUNNER = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'ALERT_WEBHOOK_TOKEN'] as const;

/**
 * `vigil runner`: consumes the actions queue (each approved request once, as the bot would) and
 * posts results through the bot's outbox; no HTTP server, no Slack client. Runs until SIGTERM or
 * SIGINT, then gives runs in progress their grace. The bot, with `actions.runner: separate`, only
 * enqueues: it holds no action credentials, and the runner no Slack ones.
 */
export async function runRunner(config: Config, log: Logger, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  const actions = config.file.actions;
  if (!actions || Object.keys(actions.catalog).length === 0) {
    process.stderr.write('vigil runner: no actions are configured (actions.catalog in the YAML configuration); nothing to run\n');
    return EXIT.CONFIG;
  }
  if (actions.runner !== 'separate') {
    process.stderr.write('vigil runner: actions.runner is in-process, so the bot runs actions itself; set actions.runner: separate for the bot and the runner alike\n');
    return EXIT.CONFIG;
  }
  const present = NOT_FOR_THE_RUNNER.filter((name) => config.env[name] !== undefined);
  if (present.length > 0) write(`Runner: ${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set here, which the runner does not use; remove ${present.length === 1 ? 'it' : 'them'} from its environment so actions cannot read ${present.length === 1 ? 'it' : 'them'}`);
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });
  let container: Awaited<ReturnType<typeof createContainer>>;
  try {
    container = await createContainer(config, { log, announce: write, embedded: false, role: 'runner', features: [actionsFeature] });
    await container.startBackground();
  } catch (err) {
    process.stderr.write(`vigil runner: could not start: ${describeError(err)}\n`);
    return EXIT.FAILED;
  }
  write('Runner: ready; running approved actions until SIGTERM');
  const signal = await stopped;
  write(`${signal}: stopping; runs in progress get their grace`);
  await container.close();
  return EXIT.OK;
}
