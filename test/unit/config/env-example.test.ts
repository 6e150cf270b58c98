import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../../src/config/env.ts';

describe('.env.example', () => {
  const text = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
  const keys = [...text.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);

  it('lists every key the env schema knows, each under a comment', () => {
    expect(keys.sort()).toEqual(Object.keys(envSchema.shape).sort());
    for (const key of keys) expect(text).toMatch(new RegExp(`#[^\\n]*\\n${key}=`));
  });

  it('holds only placeholders, never something shaped like a real token', () => {
    expect(text).not.toMatch(/xox[bap]-\d+-/);
    expect(text).not.toMatch(/xapp-\d-/);
  });
});
