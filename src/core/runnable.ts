/** Something that runs in the background of the bot (a BullMQ worker, a cron schedule). */
export interface Runnable {
  name: string;
  start(): Promise<void>;
  /** Stop taking new work and let what is running finish. */
  stop(): Promise<void>;
}
