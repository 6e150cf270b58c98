import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCommands as commands } from '../../../commands/index.ts';
import { buildManifest, MANIFEST_PATHS, manifestFile, PLACEHOLDER_URL } from '../../../src/slack/manifest.ts';
import { SLACK_EVENTS_PATH } from '../../../src/slack/receiver.ts';
import { ALL_FEATURES, botScopes, SLACK_API_USES, type FeatureSet } from '../../../src/slack/scopes.ts';

const root = new URL('../../../', import.meta.url);

interface Manifest {
  features: { slash_commands: { command: string; url?: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { socket_mode_enabled: boolean; interactivity: { is_enabled: boolean; request_url?: string } };
}
const manifest = (...args: Parameters<typeof buildManifest>) => buildManifest(...args) as unknown as Manifest;
const only = (on: Partial<FeatureSet>): FeatureSet => ({ commands: true, alerts: false, actions: false, incidents: false, reports: false, userGroups: false, ...on });

describe('Slack app manifest', () => {
  it.each(['http', 'socket'] as const)('manifests/ %s file matches the command registry (run `npm run manifest`)', (mode) => {
    const onDisk = readFileSync(new URL(MANIFEST_PATHS[mode], root), 'utf8');
    expect(onDisk).toBe(manifestFile(commands, mode));
  });

  it('the checked-in files keep the placeholder URL and every feature’s scopes', () => {
    const http = JSON.parse(readFileSync(new URL(MANIFEST_PATHS.http, root), 'utf8')) as Manifest;
    expect(http.features.slash_commands.every((c) => c.url === `${PLACEHOLDER_URL}${SLACK_EVENTS_PATH}`)).toBe(true);
    expect(http.oauth_config.scopes.bot).toEqual(['commands', 'chat:write', 'channels:history', 'groups:history', 'channels:manage', 'channels:read', 'channels:write.invites', 'channels:write.topic', 'usergroups:read']);
  });

  it('declares every registered command plus /vigil, with URLs only over HTTP', () => {
    const http = manifest(commands, { mode: 'http' });
    const socket = manifest(commands, { mode: 'socket' });
    const names = http.features.slash_commands.map((c) => c.command);
    expect(names).toEqual([...commands.map((c) => `/${c.name}`), '/vigil']);
    expect(http.features.slash_commands.every((c) => c.url?.endsWith('/slack/events'))).toBe(true);
    expect(socket.features.slash_commands.every((c) => c.url === undefined)).toBe(true);
    expect(socket.settings.interactivity).toEqual({ is_enabled: true });
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(http.settings.socket_mode_enabled).toBe(false);
  });

  it('points slash commands and interactivity at <url>/slack/events, the route the HTTP server serves', () => {
    const http = manifest(commands, { mode: 'http', baseUrl: 'https://ops.acme.test/vigil' });
    const want = `https://ops.acme.test/vigil${SLACK_EVENTS_PATH}`;
    expect(SLACK_EVENTS_PATH).toBe('/slack/events');
    expect(new Set(http.features.slash_commands.map((c) => c.url))).toEqual(new Set([want]));
    expect(http.settings.interactivity.request_url).toBe(want);
  });

  it('asks only for the scopes of the enabled features', () => {
    const scopes = (features: FeatureSet) => manifest(commands, { mode: 'socket', features }).oauth_config.scopes.bot;
    expect(scopes(only({}))).toEqual(['commands']);
    expect(scopes(only({ alerts: true }))).toEqual(['commands', 'chat:write', 'channels:history', 'groups:history']);
    expect(scopes(only({ actions: true }))).toEqual(['commands', 'chat:write', 'channels:history', 'groups:history']);
    expect(scopes(only({ reports: true }))).toEqual(['commands', 'chat:write', 'channels:history', 'groups:history']);
    expect(scopes(only({ actions: true, userGroups: true }))).toEqual(['commands', 'chat:write', 'channels:history', 'groups:history', 'usergroups:read']);
    // Channel scopes only with incidents: (a channel each), and no user groups unless it invites some.
    expect(scopes(only({ incidents: true }))).toEqual(['commands', 'chat:write', 'channels:manage', 'channels:read', 'channels:write.invites', 'channels:write.topic', 'channels:history', 'groups:history']);
    expect(scopes(ALL_FEATURES)).toEqual(['commands', 'chat:write', 'channels:history', 'groups:history', 'channels:manage', 'channels:read', 'channels:write.invites', 'channels:write.topic', 'usergroups:read']);
    // Argued in scopes.ts: the bot is invited to its channels instead.
    expect(botScopes(ALL_FEATURES)).not.toContain('chat:write.public');
  });

  it('refuses a command name Slack would reject', () => {
    const long = { ...commands[0]!, name: 'x'.repeat(32) };
    expect(() => buildManifest([long], { mode: 'http' })).toThrow(/too long/);
  });
});

/** Every Slack Web API method named in src/ (the calls and the method names the outbox picks from). */
function webApiMethodsInSource(): Map<string, string> {
  const found = new Map<string, string>();
  const srcDir = new URL('src/', root).pathname;
  const namespaces = 'admin|apps|auth|bookmarks|bots|calls|canvases|chat|conversations|dnd|emoji|files|pins|reactions|reminders|search|team|usergroups|users|views|workflows';
  const patterns = [
    /apiCall\(\s*['"]([a-z]+(?:\.[A-Za-z]+)+)['"]/g,
    new RegExp(`\\bclient\\.(${namespaces})\\.([A-Za-z]+)\\(`, 'g'),
    new RegExp(`['"]((?:${namespaces})\\.[A-Za-z]+(?:\\.[A-Za-z]+)?)['"]`, 'g'),
  ];
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !/^slack\/(scopes|manifest)/.test(f));
  for (const file of files) {
    const text = readFileSync(join(srcDir, file), 'utf8');
    for (const pattern of patterns) {
      for (const m of text.matchAll(pattern)) found.set(m[2] ? `${m[1]}.${m[2]}` : m[1]!, `src/${file}`);
    }
  }
  return found;
}

describe('the scope table (src/slack/scopes.ts)', () => {
  it('lists every Slack Web API method Vigil calls, so the manifest cannot miss a scope', () => {
    const found = webApiMethodsInSource();
    // The scan must see the calls it is there for, or it proves nothing.
    expect([...found.keys()]).toEqual(expect.arrayContaining(['chat.postMessage', 'chat.update', 'usergroups.users.list', 'views.open']));
    const listed = new Set(SLACK_API_USES.map((u) => u.method));
    const missing = [...found].filter(([method]) => !listed.has(method)).map(([method, file]) => `${method} (${file})`);
    expect(missing).toEqual([]);
  });

  it('gives each method the same scopes whatever feature calls it', () => {
    const scopesOf = (method: string, feature?: string) =>
      [...new Set(SLACK_API_USES.filter((u) => u.method === method && (feature === undefined || u.feature === feature)).map((u) => u.scope))].sort();
    for (const use of SLACK_API_USES) expect(scopesOf(use.method, use.feature), `${use.method} for ${use.feature}`).toEqual(scopesOf(use.method));
    expect(scopesOf('chat.postMessage')).toEqual(['chat:write']);
    expect(scopesOf('chat.update')).toEqual(['chat:write']);
    expect(scopesOf('usergroups.users.list')).toEqual(['usergroups:read']);
    // Public channels, private ones: a channel of either kind may be configured.
    expect(scopesOf('conversations.history')).toEqual(['channels:history', 'groups:history']);
    expect(scopesOf('views.open')).toEqual([null]);
  });
});
