import type { FeatureFactory } from './feature.ts';
import { actionsFeature } from './actions.ts';
import { alertsFeature } from './alerts.ts';
import { auditFeature } from './audit.ts';
import { incidentsFeature } from './incidents.ts';
import { inspectFeature } from './inspect.ts';

export type { FeatureFactory } from './feature.ts';

/** The explicit list of features the bot runs, in start order (stopped in reverse). */
export const features: readonly FeatureFactory[] = [inspectFeature, alertsFeature, actionsFeature, incidentsFeature, auditFeature];
