import { z } from 'zod';

// Slack ids as they appear in the UI: channels C…/G…, users U…/W…, user groups S….
export const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,20}$/, 'must be a Slack channel id like C0123ABCD');
export const userId = z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'must be a Slack user id like U0123ABCD');
export const userGroupId = z.string().regex(/^S[A-Z0-9]{2,20}$/, 'must be a Slack user group id like S0123ABCD');
