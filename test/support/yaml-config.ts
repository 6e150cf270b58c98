import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

/**
 * A YAML config as operators write it, read by loadConfig from a temp dir of its own (removed
 * after the file's tests): `load` gives the config, `problems` the problems loadConfig names,
 * without the file path each begins with. Call at a test file's top level.
 */
export function yamlConfigLoader(name: string) {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  const load = (yaml: string) => {
    const d = mkdtempSync(join(tmpdir(), `vigil-${name}-config-`));
    made.push(d);
    writeFileSync(join(d, 'vigil.yaml'), yaml);
    return loadConfig({ VIGIL_CONFIG: 'vigil.yaml' }, d);
  };
  const problems = (yaml: string): string[] => {
    try {
      load(yaml);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map((p) => p.replace(/^.*vigil\.yaml: /, ''));
      throw err;
    }
    throw new Error('expected a ConfigError');
  };
  return { load, problems };
}
