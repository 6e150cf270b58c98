import { commands } from '../../commands/index.ts';
import type { IncidentCommandDeps } from '../../commands/incident.ts';
import { bindCommands } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Runnable } from '../core/runnable.ts';
import type { Infrastructure } from '../infrastructure.ts';
import type { Feature } from './feature.ts';

/** Timings tests shorten; the defaults are the bot's. */
export interface IncidentsFeatureOptions {
  /** How often the channel worker and the relay look for work besides their nudges (default 1 s). */
  pollMs?: number;
}

const NOT_CONFIGURED = 'incidents are not configured (add an `incidents:` section with announceChannel to manifests/vigil.yaml; see docs/incidents.md)';

/**
 * Incidents: `/incident` and the Declare incident button on alert messages declare one; a worker
 * gives it a Slack channel of its own (created once, whatever the retries), invites the declarer,
 * the lead and on-call, and announces it; a relay shows its timeline there as it happens; resolving
 * posts the write-up built from the audit trail. Without Slack (the shell) everything is kept and
 * /incident shows the same messages as its answers; without `incidents:` it says so.
 */
export async function incidentsFeature(infra: Infrastructure, opts: IncidentsFeatureOptions = {}): Promise<Feature> {
  const { config, state, log } = infra;
  const cfg = config.file.incidents;
  const off = (missing: string): Feature => ({ name: 'incidents', commands: bindCommands<IncidentCommandDeps>([commands.incident], { incidents: null, missing }) });
  if (!cfg) return off(NOT_CONFIGURED);
  const pool = state.pool;
  const status = state.status();
  if (!pool) return off(`incidents need Vigil's state database (${status.kind === 'ready' ? 'none' : status.why})`);

  const { createIncidentService } = await import('../incidents/service.ts');
  const { declareHandlers } = await import('../incidents/handlers.ts');
  const workers: (Runnable & { kick(): void })[] = [];
  const db = async () => {
    const s = await state.ready();
    if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Vigil's state database is not available: ${s.why}.`);
    return s.pool;
  };
  const ready = async () => (await state.ready()).kind === 'ready';
  const incidents = createIncidentService({ db, audit: infra.audit, cfg, changed: () => workers.forEach((w) => w.kick()) });

  const slack = config.slack;
  if (infra.outbox && slack.kind !== 'none') {
    const { createIncidentChannels } = await import('../slack/incident-channels.ts');
    const { createChannelSync } = await import('../incidents/channel-sync.ts');
    const { createRelay } = await import('../incidents/relay.ts');
    const channels = createIncidentChannels({ token: slack.botToken, ...(config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {}), log });
    const { groupRefresherOf } = await import('../alerts/message-refresh.ts');
    // Provided by the alerts feature (built before this one) when it has a processor.
    const refresh = groupRefresherOf(infra);
    const refreshAlertMessages = refresh ? { refreshAlertMessages: refresh } : {};
    const relay = createRelay({ pool, outbox: infra.outbox, announceChannel: cfg.announceChannel, log, ready, ...refreshAlertMessages, ...(opts.pollMs ? { pollMs: opts.pollMs } : {}) });
    const sync = createChannelSync({
      pool,
      channels,
      outbox: infra.outbox,
      audit: infra.audit,
      userGroups: infra.userGroups,
      announceChannel: cfg.announceChannel,
      messageLink: infra.messageLink,
      log,
      onChannel: () => relay.kick(),
      ...refreshAlertMessages,
      ready,
      ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
    });
    workers.push(sync, relay);
    infra.announce(`Incidents: announced in ${cfg.announceChannel}, channels ${cfg.channelPrefix}-…, inviting ${cfg.invite.userGroups.length} user group(s) and ${cfg.invite.users.length} user(s)`);
  } else {
    infra.announce(`Incidents: kept without channels here (${infra.outboxMissing ?? 'no Slack'}); a bot with Slack beside it opens them`);
  }
  return {
    name: 'incidents',
    commands: bindCommands<IncidentCommandDeps>([commands.incident], { incidents, missing: undefined }),
    interactions: declareHandlers({ state, incidents }),
    workers,
  };
}
