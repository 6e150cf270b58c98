import { describe, expect, it } from 'vitest';
import { screenSlackHeaders, signSlackRequest, verifySlackSignature } from '../../../src/slack/verify.ts';

// Slack's documented example (the full body as in bolt-js's ExpressReceiver tests).
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TS = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const NOW = Number(TS) * 1000;

describe('verifySlackSignature', () => {
  it("accepts Slack's known-answer vector, and signSlackRequest reproduces it", () => {
    expect(signSlackRequest(SECRET, BODY, Number(TS))).toBe(SIGNATURE);
    expect(verifySlackSignature({ signingSecret: SECRET, signature: SIGNATURE, timestamp: TS, rawBody: BODY, nowMs: NOW })).toBeNull();
  });

  it('refuses a changed body, a wrong secret, a truncated or missing signature', () => {
    const base = { signingSecret: SECRET, signature: SIGNATURE, timestamp: TS, rawBody: BODY, nowMs: NOW };
    expect(verifySlackSignature({ ...base, rawBody: `${BODY}x` })).toBe('bad_signature');
    expect(verifySlackSignature({ ...base, signingSecret: `${SECRET}x` })).toBe('bad_signature');
    expect(verifySlackSignature({ ...base, signature: SIGNATURE.slice(0, 20) })).toBe('bad_signature');
    expect(verifySlackSignature({ ...base, signature: undefined })).toBe('missing_headers');
    expect(verifySlackSignature({ ...base, timestamp: '15314x' })).toBe('bad_timestamp');
  });

  it('refuses timestamps more than five minutes away in either direction, even when signed', () => {
    const at = (offsetS: number) => {
      const ts = Number(TS) + offsetS;
      return verifySlackSignature({ signingSecret: SECRET, signature: signSlackRequest(SECRET, BODY, ts), timestamp: String(ts), rawBody: BODY, nowMs: NOW });
    };
    expect(at(-300)).toBeNull();
    expect(at(300)).toBeNull();
    expect(at(-301)).toBe('stale_timestamp');
    expect(at(301)).toBe('future_timestamp');
  });
});

describe('screenSlackHeaders (before the body is read)', () => {
  it('passes well-formed headers within the window, whatever the body will be', () => {
    expect(screenSlackHeaders(SIGNATURE, TS, NOW)).toBeNull();
    expect(screenSlackHeaders(SIGNATURE, String(Number(TS) + 300), NOW)).toBeNull();
  });

  it('refuses what cannot be genuine: missing, malformed, or outside five minutes either way', () => {
    expect(screenSlackHeaders(undefined, TS, NOW)).toBe('missing_headers');
    expect(screenSlackHeaders(SIGNATURE, undefined, NOW)).toBe('missing_headers');
    expect(screenSlackHeaders(SIGNATURE, '15314x', NOW)).toBe('bad_timestamp');
    expect(screenSlackHeaders(SIGNATURE, String(Number(TS) - 301), NOW)).toBe('stale_timestamp');
    expect(screenSlackHeaders(SIGNATURE, String(Number(TS) + 301), NOW)).toBe('future_timestamp');
    expect(screenSlackHeaders('v0=xyz', TS, NOW)).toBe('bad_signature');
    expect(screenSlackHeaders(SIGNATURE.toUpperCase(), TS, NOW)).toBe('bad_signature');
  });
});
