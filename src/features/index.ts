import type { FeatureFactory } from './feature.ts';
import { actionsFeature } from './actions.ts';
import { alertsFeature } from './alerts.ts';
import { auditFeature } from './audit.ts';
import { incidentsFeature } from './incidents.ts';
import { inspectFeature } from './inspect.ts';
import { slosFeature } from './slos.ts';
import { reportsFeature } from './reports.ts';
import { sloReportSections } from '../reports/sections/slos.ts';

export type { FeatureFactory } from './feature.ts';

/** Reports carry each SLO's error budget (the SLOs' section, through the reports' seam). */
const reportsWithSlos: FeatureFactory = (infra) => reportsFeature(infra, { extraSections: sloReportSections });

/** The explicit list of features the bot runs, in start order (stopped in reverse). */
export const features: readonly FeatureFactory[] = [inspectFeature, alertsFeature, slosFeature, actionsFeature, incidentsFeature, auditFeature, reportsWithSlos];
