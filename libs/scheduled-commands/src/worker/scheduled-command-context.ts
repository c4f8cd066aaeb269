import { AsyncLocalStorage } from 'node:async_hooks';
import type { ScheduledCommandMetadata } from '../store/scheduled-command-entry.js';

/** What a handler can learn about the scheduled run it is part of. */
export interface ScheduledCommandContext {
  readonly commandId: string;
  readonly commandType: string;
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number;
  readonly retryCount: number;
  readonly maxRetries: number;
  readonly correlationId: string | null;
  readonly metadata: ScheduledCommandMetadata | null;
  /** Fires when the run should stop early: `commandTimeout` passed, the lease was lost, or the app is shutting down. */
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<ScheduledCommandContext>();

/**
 * The context of the scheduled run the caller is executing in (inside a `@CommandHandler`'s `execute`
 * for a command sent by the worker), or `undefined` when the command was not sent by the worker.
 */
export function getScheduledCommandContext(): ScheduledCommandContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `context` as the current scheduled run. */
export function runInScheduledCommandContext<T>(context: ScheduledCommandContext, fn: () => T): T {
  return storage.run(context, fn);
}
