import { describe, expect, it } from 'vitest';
import { urlParamProblem } from '../../../src/actions/runners/http.ts';

describe('parameters in an http action URL path', () => {
  const spec = { url: 'https://deploy.example.com/api/services/{service}/restart?reason={why}' };
  it('refuse values that would move the request to another path', () => {
    for (const value of ['..', '.', '%2e%2E', '%2E', 'a/b', '../admin', 'a\\b']) {
      expect(urlParamProblem(spec, { service: value, why: 'x' }), value).toBe(`service ${JSON.stringify(value)} would change the URL's path; nothing was sent`);
    }
  });
  it('take ordinary values, and anything in the query', () => {
    expect(urlParamProblem(spec, { service: 'api', why: 'a/b/../c' })).toBeNull();
    expect(urlParamProblem(spec, { service: '...', why: 'x' })).toBeNull();
    expect(urlParamProblem(spec, { service: 'v1.2', why: 'x' })).toBeNull();
    expect(urlParamProblem({ url: 'https://h/jobs/{id}' }, { id: 42 })).toBeNull();
  });
});

describe('an http action asked with such a value', () => {
  it('is refused when requested (checkTarget) and again when run, sending nothing', async () => {
    const { actionsConfigSchema } = await import('../../../src/actions/catalog-config.ts');
    const { checkTarget, createRunner } = await import('../../../src/actions/runners/index.ts');
    const parsed = actionsConfigSchema.parse({
      approvalChannel: 'C0APPROVALS',
      catalog: { restart: { title: 'Restart', risk: 'high', http: { method: 'POST', url: 'https://deploy.example.com/api/{service}/restart' }, params: { service: { enum: ['api', '..'] } }, approvers: { users: ['U0BOSS'] } } },
    });
    const runner = parsed.catalog.restart?.runner;
    if (!runner) throw new Error('no runner');
    const sent: string[] = [];
    const deps = { bullmq: null, alertmanagerUrl: null, db: null, env: {}, fetch: (async (url: string) => { sent.push(url); return new Response('ok'); }) as unknown as typeof fetch };
    expect(await checkTarget(runner, { service: '..' }, deps)).toBe(`service ".." would change the URL's path; nothing was sent`);
    expect(await checkTarget(runner, { service: 'api' }, deps)).toBeNull();
    const outcome = await createRunner(runner, deps)({ service: '..' }, { signal: new AbortController().signal, requestedBy: 'alice' });
    expect(outcome).toMatchObject({ ok: false, summary: `Refused: service ".." would change the URL's path; nothing was sent.` });
    expect(sent).toEqual([]);
  });
});
