import { z } from 'zod';

/** An absolute http:// or https:// URL (credentials allowed: probes send them as Basic auth). */
export const httpUrl = z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL');
