import type { CommandInfo } from '../core/command.ts';
import { SLACK_EVENTS_PATH } from './receiver.ts';
import { ALL_FEATURES, botScopes, type FeatureSet } from './scopes.ts';

/** Slack caps a slash command's name at 32 characters including the slash. */
export const MAX_COMMAND_LENGTH = 32;

export type ManifestMode = 'http' | 'socket';

export interface ManifestOptions {
  mode: ManifestMode;
  /** Public base URL for HTTP mode, without a trailing slash; the placeholder when absent. */
  baseUrl?: string;
  /** Which features' scopes to ask for; all of them when absent. */
  features?: FeatureSet;
}

/** The base URL in the checked-in manifests; `npm run manifest -- --url …` writes one with yours. */
export const PLACEHOLDER_URL = 'https://vigil.example.com';

/**
 * The Slack app manifest, generated from the command registry so the app and the code cannot
 * drift: every command appears as `/<name>`, plus `/vigil` for all of them.
 */
export function buildManifest(commands: readonly CommandInfo[], opts: ManifestOptions): Record<string, unknown> {
  // Slash commands and interactivity share the one route the HTTP server gives Slack.
  const url = `${opts.baseUrl ?? PLACEHOLDER_URL}${SLACK_EVENTS_PATH}`;
  const withUrl = opts.mode === 'http' ? { url } : {};
  const slashCommands = [
    ...commands.map((c) => ({
      command: `/${c.name}`,
      description: c.summary.slice(0, 100),
      ...(c.usage ? { usage_hint: c.usage.slice(0, 1000) } : {}),
      should_escape: false,
      ...withUrl,
    })),
    {
      command: '/vigil',
      description: 'Vigil: every on-call command (try /vigil help)',
      usage_hint: `help | ${commands.map((c) => c.name).join(' | ')}`,
      should_escape: false,
      ...withUrl,
    },
  ];
  for (const c of slashCommands) {
    if (c.command.length > MAX_COMMAND_LENGTH) throw new Error(`Slash command too long for Slack: ${c.command}`);
  }
  return {
    _metadata: { major_version: 1, minor_version: 1 },
    display_information: {
      name: 'Vigil',
      description: 'On-call chat-ops: health, queues, slow queries, approved actions.',
      background_color: '#1d2b3a',
    },
    features: {
      bot_user: { display_name: 'vigil', always_online: true },
      slash_commands: slashCommands,
    },
    oauth_config: { scopes: { bot: botScopes(opts.features ?? ALL_FEATURES) } },
    settings: {
      interactivity: { is_enabled: true, ...(opts.mode === 'http' ? { request_url: url } : {}) },
      org_deploy_enabled: false,
      socket_mode_enabled: opts.mode === 'socket',
      token_rotation_enabled: false,
    },
  };
}

/**
 * A manifest as file contents: stable JSON with a trailing newline. With only `mode` it is the
 * file checked in under manifests/ (placeholder URL, every feature's scopes).
 */
export function manifestFile(commands: readonly CommandInfo[], mode: ManifestMode, opts: Omit<ManifestOptions, 'mode'> = {}): string {
  return `${JSON.stringify(buildManifest(commands, { ...opts, mode }), null, 2)}\n`;
}

export const MANIFEST_PATHS: Record<ManifestMode, string> = {
  http: 'manifests/slack-app.http.json',
  socket: 'manifests/slack-app.socket.json',
};
