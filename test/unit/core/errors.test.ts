import { describe, expect, it } from 'vitest';
import { describeError, scrubSecrets } from '../../../src/core/errors.ts';

describe('scrubSecrets', () => {
  it('masks passwords in URLs and Slack tokens, leaving the rest readable', () => {
    expect(scrubSecrets('connect to redis://:pw@h:6379 and postgres://u:p%40ss@db/x failed')).toBe(
      'connect to redis://:***@h:6379 and postgres://u:***@db/x failed',
    );
    expect(scrubSecrets('token xoxb-1-2-abc was revoked; xapp-1-A-2 too')).toBe('token xoxb-*** was revoked; xapp-*** too');
    expect(scrubSecrets('plain message, http://host/path')).toBe('plain message, http://host/path');
  });
  it('is applied by describeError', () => {
    expect(describeError(new Error('bad postgres://a:b@c'))).toBe('bad postgres://a:***@c');
    expect(describeError(new TypeError('x'))).toBe('TypeError: x');
  });
});
