import type { RichText } from './reply.ts';

/**
 * Why the access policy refused something: `rule` is the config key that refused (kept in the
 * audit trail), `message` what the person reads ("/audit is for members of @sre").
 */
export interface Refusal {
  rule: string;
  message: RichText;
}
