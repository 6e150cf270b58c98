import { decisionCommand } from './approve.ts';

/** `/deny <request>`: see commands/approve.ts, which both share. */
export default decisionCommand('deny');
