import type { Feature } from './feature.ts';
import type { Infrastructure } from '../infrastructure.ts';
import { actionsFeature } from './actions.ts';
import { alertsFeature } from './alerts.ts';
import { auditFeature } from './audit.ts';
import { inspectFeature } from './inspect.ts';

/** Builds one feature from the shared infrastructure; may open what only it needs. */
export type FeatureFactory = (infra: Infrastructure) => Feature | Promise<Feature>;

/** The explicit list of features the bot runs, in start order (stopped in reverse). */
export const features: readonly FeatureFactory[] = [inspectFeature, alertsFeature, actionsFeature, auditFeature];
