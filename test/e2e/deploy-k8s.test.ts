/**
 * deploy/k8s, tested without a cluster: every manifest is parsed and checked against what Vigil
 * reads (src/config/env.ts, loadConfig, the CLI's tools) and what the Dockerfile declares (USER,
 * WORKDIR, ENV). The env each pod gets, directly or through the Secrets it references, is Vigil's
 * (plus, for the runner, what its actions name); the runner never gets Slack's secrets; the
 * ConfigMap's vigil.yaml loads; probes, selectors and the security context fit the image. Where
 * kubectl is installed, `kubectl kustomize` renders the directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { envSchema } from '../../src/config/env.ts';
import { loadConfig, type Config } from '../../src/config/load.ts';
import { isPlaceholder } from '../../src/config/placeholders.ts';
import { SLACK_OR_WEBHOOK, VIGIL_ENV, actionEnvNames, cliToolOf, imageRuntime, isCompiledCli, readRepoFile } from '../support/deploy-files.ts';
import { REPO_ROOT } from '../support/run-process.ts';

type Labels = Record<string, string>;
interface Probe { httpGet?: { path: string; port: number | string }; exec?: unknown; tcpSocket?: unknown }
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ prefix?: string; secretRef?: { name: string }; configMapRef?: { name: string } }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodSpec {
  containers: Container[];
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
  volumes?: Array<{ name: string; emptyDir?: object; configMap?: { name: string; items?: Array<{ key: string; path: string }> }; secret?: { secretName: string } }>;
}
interface Manifest {
  file: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: Selector;
    template?: { metadata: { labels: Labels }; spec: PodSpec };
    minAvailable?: number | string;
    ports?: Array<{ port: number; targetPort?: number | string }>;
  };
  resources?: string[];
  images?: Array<{ name: string }>;
}

const DIR = 'deploy/k8s';
const FILES = readdirSync(join(REPO_ROOT, DIR)).filter((f) => /\.ya?ml$/.test(f)).sort();
const MANIFESTS: Manifest[] = FILES.flatMap((file) =>
  parseAllDocuments(readRepoFile(posix.join(DIR, file))).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Omit<Manifest, 'file'> | null;
    // A Kustomization has no metadata.
    return value ? [{ ...value, metadata: value.metadata ?? { name: '' }, file }] : [];
  }),
);
const IMAGE = imageRuntime();

function get(kind: string, name: string): Manifest {
  const found = MANIFESTS.filter((m) => m.kind === kind && m.metadata.name === name);
  if (found.length !== 1) throw new Error(`${found.length} ${kind} named ${name} in ${DIR}`);
  return found[0] as Manifest;
}
const pod = (deployment: Manifest): PodSpec => deployment.spec?.template?.spec ?? { containers: [] };
const podLabels = (deployment: Manifest): Labels => deployment.spec?.template?.metadata.labels ?? {};
function only(deployment: Manifest): Container {
  const { containers } = pod(deployment);
  if (containers.length !== 1) throw new Error(`${deployment.metadata.name}: ${containers.length} containers`);
  return containers[0] as Container;
}
const secretData = (secret: Manifest): Record<string, string> => ({ ...secret.data, ...secret.stringData });
type Selector = Labels | { matchLabels?: Labels; matchExpressions?: unknown[] };
/** Whether a label selector (a Deployment's or PDB's matchLabels, a Service's plain map) picks pods labelled `labels`. */
function selects(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  const structured = 'matchLabels' in selector || 'matchExpressions' in selector;
  if (structured && Array.isArray(selector.matchExpressions) && selector.matchExpressions.length > 0) throw new Error('matchExpressions: not checked by this test');
  const wanted = (structured ? selector.matchLabels : selector) as Labels | undefined;
  return Object.keys(wanted ?? {}).length > 0 && Object.entries(wanted ?? {}).every(([k, v]) => labels[k] === v);
}

/** Every variable a container gets: its env, and each key of the Secrets and ConfigMaps it takes whole. */
function envNames(container: Container): string[] {
  const names = (container.env ?? []).map((e) => e.name);
  for (const from of container.envFrom ?? []) {
    const source = from.secretRef ? get('Secret', from.secretRef.name) : from.configMapRef ? get('ConfigMap', from.configMapRef.name) : null;
    if (!source) throw new Error(`${container.name}: envFrom without a secretRef or configMapRef`);
    names.push(...Object.keys(secretData(source)).map((key) => `${from.prefix ?? ''}${key}`));
  }
  return names;
}
/** The env a container runs with: the image's ENV, its literal values, and the Secrets' values (placeholders here). */
function envValues(container: Container): Record<string, string> {
  const env: Record<string, string> = { ...IMAGE.env };
  for (const from of container.envFrom ?? []) if (from.secretRef) for (const [k, v] of Object.entries(secretData(get('Secret', from.secretRef.name)))) env[`${from.prefix ?? ''}${k}`] = v;
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}
/** The Secrets a pod can read: through env, envFrom or a volume. */
function secretsOf(spec: PodSpec): string[] {
  const names = spec.containers.flatMap((c) => [...(c.envFrom ?? []).flatMap((f) => (f.secretRef ? [f.secretRef.name] : [])), ...(c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : []))]);
  names.push(...(spec.volumes ?? []).flatMap((v) => (v.secret ? [v.secret.secretName] : [])));
  return [...new Set(names)].sort();
}
/** The ConfigMap key a container reads at VIGIL_CONFIG, and that ConfigMap's text for it. */
function configAt(deployment: Manifest): { text: string; configMap: string } {
  const container = only(deployment);
  const path = envValues(container).VIGIL_CONFIG ?? '';
  const mount = (container.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  const volume = pod(deployment).volumes?.find((v) => v.name === mount?.name);
  if (!mount || !volume?.configMap) throw new Error(`${deployment.metadata.name}: no ConfigMap mounted at ${path}`);
  const rel = posix.relative(mount.mountPath, path);
  const key = volume.configMap.items ? volume.configMap.items.find((i) => i.path === rel)?.key : rel;
  const text = get('ConfigMap', volume.configMap.name).data?.[key ?? ''];
  if (text === undefined) throw new Error(`${deployment.metadata.name}: ConfigMap ${volume.configMap.name} has no ${key} for ${path}`);
  return { text, configMap: volume.configMap.name };
}
const scratch = mkdtempSync(join(tmpdir(), 'vigil-k8s-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** loadConfig as the pod would run it: its env, its VIGIL_CONFIG's text. */
function loadFor(deployment: Manifest): Config {
  const path = join(scratch, `${deployment.metadata.name}.yaml`);
  writeFileSync(path, configAt(deployment).text);
  return loadConfig({ ...envValues(only(deployment)), VIGIL_CONFIG: path }, scratch);
}
/** A probe's or Service's port as a number: a container port's name resolved. */
function portNumber(container: Container, port: number | string | undefined): number | undefined {
  return typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
}

const bot = get('Deployment', 'vigil');
const runner = get('Deployment', 'vigil-runner');

describe('deploy/k8s', () => {
  it('parses, and kustomization.yaml lists every manifest but the Secrets example (rendered by kubectl kustomize where installed)', () => {
    const kustomization = get('Kustomization', '');
    expect(kustomization.resources?.slice().sort()).toEqual(FILES.filter((f) => f !== 'kustomization.yaml' && !f.includes('example')));
    for (const m of MANIFESTS.filter((x) => x.kind === 'Deployment')) for (const c of pod(m).containers) expect(kustomization.images?.map((i) => i.name)).toContain(c.image);
    const render = spawnSync('kubectl', ['kustomize', join(REPO_ROOT, DIR)], { encoding: 'utf8', timeout: 30_000 });
    if (render.error) return; // kubectl not installed: parsed only
    expect(render.status, render.stderr).toBe(0);
    const kinds = parseAllDocuments(render.stdout).map((d) => (d.toJS() as { kind: string }).kind).sort();
    expect(kinds).toEqual(MANIFESTS.filter((m) => kustomization.resources?.includes(m.file)).map((m) => m.kind).sort());
  });

  it('every variable the bot and the runner get is Vigil env (the runner: or what its actions name), and valid', () => {
    const actionEnv = actionEnvNames(loadFor(runner));
    expect(actionEnv.length, 'the example names an action credential').toBeGreaterThan(0);
    for (const name of envNames(only(bot))) {
      expect(VIGIL_ENV, `bot: ${name} is not a variable Vigil reads`).toContain(name);
      expect(actionEnv, `bot: ${name} is an action's credential`).not.toContain(name);
    }
    for (const name of envNames(only(runner))) expect([...VIGIL_ENV, ...actionEnv], `runner: ${name} is neither Vigil env nor an action's`).toContain(name);
    // The runner has every credential its actions name.
    expect(envNames(only(runner))).toEqual(expect.arrayContaining(actionEnv));
    // Literal values pass Vigil's checks; no Service's VIGIL_SERVICE_HOST-style variables are added.
    for (const d of [bot, runner]) {
      const literal = Object.fromEntries((only(d).env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
      expect(envSchema.safeParse(literal).success, d.metadata.name).toBe(true);
      expect(pod(d).enableServiceLinks, d.metadata.name).toBe(false);
    }
  });

  it("the runner gets none of Slack's settings or the webhook token, and reads only its own Secret", () => {
    for (const name of envNames(only(runner))) expect(name, 'runner env').not.toMatch(SLACK_OR_WEBHOOK);
    expect(secretsOf(pod(runner))).toEqual(['vigil-runner']);
    expect(secretsOf(pod(bot))).toEqual(['vigil-bot']);
    expect(Object.keys(secretData(get('Secret', 'vigil-bot')))).toEqual(expect.arrayContaining(['SLACK_BOT_TOKEN', 'ALERT_WEBHOOK_TOKEN']));
    // The same state, Redis and audit key on both sides.
    for (const key of ['DATABASE_URL', 'VIGIL_DATABASE_URL', 'REDIS_URL', 'VIGIL_AUDIT_KEY', 'ALERTMANAGER_URL', 'VIGIL_CONFIG']) {
      expect(envNames(only(runner)).includes(key), key).toBe(envNames(only(bot)).includes(key));
    }
    // Examples only: every value is a placeholder, which Vigil treats as unset.
    for (const secret of MANIFESTS.filter((m) => m.kind === 'Secret')) {
      expect(secret.file).toMatch(/example/);
      for (const [key, value] of Object.entries(secretData(secret))) expect(isPlaceholder(value), `${secret.metadata.name}.${key}`).toBe(true);
    }
  });

  it("the ConfigMap's vigil.yaml, where VIGIL_CONFIG points in both pods, loads with actions.runner separate and actions to run", () => {
    expect(configAt(runner)).toEqual(configAt(bot));
    for (const d of [bot, runner]) {
      const config = loadFor(d);
      expect(config.file.actions?.runner, d.metadata.name).toBe('separate');
      expect(Object.keys(config.file.actions?.catalog ?? {}).length).toBeGreaterThan(0);
    }
    expect(loadFor(runner).slack.kind).toBe('none');
  });

  it('the bot: 3 replicas, /readyz readiness and /healthz liveness on the port PORT names, listening on every address', () => {
    expect(bot.spec?.replicas).toBe(3);
    const container = only(bot);
    const env = envValues(container);
    const port = Number(env.PORT);
    expect(container.ports?.map((p) => p.containerPort)).toContain(port);
    // Reached at the pod's address by the kubelet and the Service.
    expect(env.HOST).toBe('0.0.0.0');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) if (probe) expect(portNumber(container, probe.httpGet?.port)).toBe(port);
    const service = get('Service', 'vigil');
    expect(service.spec?.ports?.map((p) => [p.port, portNumber(container, p.targetPort ?? p.port)])).toEqual([[port, port]]);
  });

  it('the Service and the PodDisruptionBudget select the bot pods and not the runner; each Deployment selects only its own', () => {
    const pdb = get('PodDisruptionBudget', 'vigil');
    expect(pdb.spec?.minAvailable).toBe(2);
    for (const selector of [get('Service', 'vigil').spec?.selector, pdb.spec?.selector, bot.spec?.selector]) {
      expect(selects(selector, podLabels(bot))).toBe(true);
      expect(selects(selector, podLabels(runner))).toBe(false);
    }
    expect(selects(runner.spec?.selector, podLabels(runner))).toBe(true);
    expect(selects(runner.spec?.selector, podLabels(bot))).toBe(false);
  });

  it("the runner runs the runner tool from the bot's image, with no port and no HTTP probe", () => {
    const container = only(runner);
    const [program, script = '', ...words] = [...(container.command ?? []), ...(container.args ?? [])];
    expect(program).toBe('node');
    expect(isCompiledCli(script, IMAGE.workdir), script).toBe(true);
    expect(cliToolOf(words)?.usage, words.join(' ')).toBe('vigil runner');
    expect(container.image).toBe(only(bot).image);
    expect(container.ports ?? []).toEqual([]);
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) expect(probe?.httpGet).toBeUndefined();
  });

  it("both run as the image's non-root uid on a read-only root filesystem, .vigil/ in an emptyDir, with at least 30 s to stop", () => {
    expect(IMAGE.uid).toBeGreaterThan(0);
    for (const d of [bot, runner]) {
      const spec = pod(d);
      const container = only(d);
      const security = { ...spec.securityContext, ...container.securityContext };
      expect([security.runAsNonRoot, security.runAsUser, security.runAsGroup], d.metadata.name).toEqual([true, IMAGE.uid, IMAGE.gid]);
      expect([security.readOnlyRootFilesystem, security.allowPrivilegeEscalation, security.capabilities?.drop], d.metadata.name).toEqual([true, false, ['ALL']]);
      const spool = container.volumeMounts?.find((m) => m.mountPath === posix.join(IMAGE.workdir, '.vigil'));
      expect(spec.volumes?.find((v) => v.name === spool?.name)?.emptyDir, `${d.metadata.name}: .vigil/`).toBeDefined();
      expect(spec.terminationGracePeriodSeconds ?? 0, d.metadata.name).toBeGreaterThanOrEqual(30);
    }
  });
});
