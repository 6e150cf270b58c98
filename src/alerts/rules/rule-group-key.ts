/** A rule's alert group key; its own module so messages can tell rule groups apart without loading the probes. */
const PREFIX = 'vigil-rule:';

export const ruleGroupKey = (ruleName: string) => `${PREFIX}${ruleName}`;

/** The rule behind a group key, or null for any other group (Alertmanager's, the dead-man's switch). */
export const ruleNameOf = (groupKey: string): string | null => (groupKey.startsWith(PREFIX) ? groupKey.slice(PREFIX.length) : null);
