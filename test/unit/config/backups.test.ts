import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { yamlConfigLoader } from '../../support/yaml-config.ts';

/** `probes.backups` as operators write it: YAML read by loadConfig, every problem naming its key. */
const { load, problems } = yamlConfigLoader('backups');

describe('probes.backups', () => {
  it('reads each source, maxAge in milliseconds, pattern defaulting to every file', () => {
    const config = load(`probes:
  backups:
    - { name: app-nightly, maxAge: 26h, dir: /var/backups/app, pattern: "app-*.dump" }
    - { name: files, maxAge: 90m, dir: /srv/dumps }
    - { name: wal, maxAge: 15m, archiver: true }
    - { name: offsite, maxAge: 30h, http: "https://backup.example.com/latest" }
`);
    expect(config.file.probes.backups).toEqual([
      { name: 'app-nightly', maxAgeMs: 26 * 3_600_000, source: { kind: 'dir', dir: '/var/backups/app', pattern: 'app-*.dump' } },
      { name: 'files', maxAgeMs: 90 * 60_000, source: { kind: 'dir', dir: '/srv/dumps', pattern: '*' } },
      { name: 'wal', maxAgeMs: 15 * 60_000, source: { kind: 'archiver' } },
      { name: 'offsite', maxAgeMs: 30 * 3_600_000, source: { kind: 'http', url: 'https://backup.example.com/latest' } },
    ]);
    expect(load('probes: { timeoutMs: 500 }\n').file.probes.backups).toEqual([]);
  });

  it('needs exactly one source, and pattern only with dir', () => {
    expect(
      problems(`probes:
  backups:
    - { name: none, maxAge: 1h }
    - { name: two, maxAge: 1h, archiver: true, http: "https://x.example.com/latest" }
    - { name: pat, maxAge: 1h, archiver: true, pattern: "*.dump" }
`),
    ).toEqual([
      'probes.backups.0: needs one source: dir, archiver or http',
      'probes.backups.1: has archiver and http: give exactly one source',
      'probes.backups.2.pattern: only applies with dir',
    ]);
  });

  it('refuses a zero or malformed maxAge, a relative dir, a path as pattern, a non-http URL, archiver: false and unknown keys', () => {
    expect(
      problems(`probes:
  backups:
    - { name: a, maxAge: 0h, dir: /x }
    - { name: b, maxAge: 2d, dir: backups }
    - { name: c, maxAge: 1h, dir: /x, pattern: "sub/*.dump" }
    - { name: d, maxAge: 1h, http: "ftp://x.example.com/latest" }
    - { name: e, maxAge: 1h, archiver: false }
    - { name: f, maxAge: 1h, dir: /x, recursive: true }
`),
    ).toEqual([
      'probes.backups.0.maxAge: must be longer than 0',
      'probes.backups.1.maxAge: must be a duration like 30s, 5m or 1h',
      'probes.backups.1.dir: must be an absolute path',
      'probes.backups.2.pattern: must be a file name pattern like *.dump (no directories)',
      'probes.backups.3.http: must be an http(s) URL',
      'probes.backups.4.archiver: must be true (leave it out to use another source)',
      'probes.backups.5: Unrecognized key: "recursive"',
    ]);
  });

  it('refuses a name used twice, naming the second', () => {
    expect(
      problems(`probes:
  backups:
    - { name: db, maxAge: 1h, dir: /a }
    - { name: db, maxAge: 1h, archiver: true }
`),
    ).toEqual(['probes.backups.1.name: db is already the name of another backup']);
  });
});

describe('the shipped example', () => {
  it('holds a commented example of each source that parses once uncommented', () => {
    const root = new URL('../../..', import.meta.url).pathname;
    const lines = readFileSync(join(root, 'manifests/vigil.example.yaml'), 'utf8').split('\n');
    const start = lines.indexOf('  # backups:');
    expect(start).toBeGreaterThan(0);
    const block = [];
    for (const line of lines.slice(start)) {
      if (!line.startsWith('  # ')) break;
      block.push(`  ${line.slice(4)}`);
    }
    const config = load(`probes:\n${block.join('\n')}\n`);
    expect(config.file.probes.backups.map((b) => [b.name, b.source.kind])).toEqual([
      ['app-nightly', 'dir'],
      ['wal-archive', 'archiver'],
      ['offsite', 'http'],
    ]);
  });
});
