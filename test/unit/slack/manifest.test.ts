import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allCommands as commands } from '../../../commands/index.ts';
import { buildManifest, MANIFEST_PATHS, manifestFile } from '../../../src/slack/manifest.ts';

const root = new URL('../../../', import.meta.url);

describe('Slack app manifest', () => {
  it.each(['http', 'socket'] as const)('manifests/ %s file matches the command registry (run `npm run manifest`)', (mode) => {
    const onDisk = readFileSync(new URL(MANIFEST_PATHS[mode], root), 'utf8');
    expect(onDisk).toBe(manifestFile(commands, mode));
  });

  it('declares every registered command plus /vigil, with URLs only over HTTP', () => {
    const http = buildManifest(commands, { mode: 'http' }) as { features: { slash_commands: { command: string; url?: string }[] }; settings: { socket_mode_enabled: boolean } };
    const socket = buildManifest(commands, { mode: 'socket' }) as typeof http;
    const names = http.features.slash_commands.map((c) => c.command);
    expect(names).toEqual([...commands.map((c) => `/${c.name}`), '/vigil']);
    expect(http.features.slash_commands.every((c) => c.url?.endsWith('/slack/events'))).toBe(true);
    expect(socket.features.slash_commands.every((c) => c.url === undefined)).toBe(true);
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(http.settings.socket_mode_enabled).toBe(false);
  });

  it('refuses a command name Slack would reject', () => {
    const long = { ...commands[0]!, name: 'x'.repeat(32) };
    expect(() => buildManifest([long], { mode: 'http' })).toThrow(/too long/);
  });
});
