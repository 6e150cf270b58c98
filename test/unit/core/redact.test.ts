import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../src/core/redact.ts';

describe('redactUrl', () => {
  it('masks the password and keeps who connects', () => {
    expect(redactUrl('postgres://vigil:s3cret@db.internal:5432/app')).toBe('postgres://vigil:***@db.internal:5432/app');
    expect(redactUrl('redis://:hunter2@cache:6379/0')).toBe('redis://:***@cache:6379/0');
  });

  it('hides the query string and the fragment behind a readable marker', () => {
    expect(redactUrl('https://status.example.com/health?token=abc123&verbose=1')).toBe('https://status.example.com/health?…');
    expect(redactUrl('https://user:pw@status.example.com/health#access_token=abc123')).toBe('https://user:***@status.example.com/health?…');
    expect(redactUrl('postgres://db/app?sslmode=require&password=x')).toBe('postgres://db/app?…');
  });

  it('leaves a URL without secrets as it is, and never echoes one it cannot parse', () => {
    expect(redactUrl('http://127.0.0.1:8080/healthz')).toBe('http://127.0.0.1:8080/healthz');
    expect(redactUrl('not a url with p4ss')).toBe('(unparseable URL)');
  });
});
