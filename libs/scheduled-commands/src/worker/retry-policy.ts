import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';

type RetryOptions = Pick<
  ResolvedScheduledCommandsOptions,
  'retryDelayBase' | 'exponentialBackoff' | 'maxRetryDelay' | 'retryJitter'
>;

/**
 * Delay in milliseconds before retry `n` (1-based): `retryDelayBase * 2^(n-1)` with exponential backoff,
 * `retryDelayBase` without; capped by `maxRetryDelay` (no overflow however large `n` is); then reduced by
 * up to `retryJitter` of itself at random.
 */
export function retryDelay(
  n: number,
  options: RetryOptions,
  random: () => number = Math.random,
): number {
  const exponent = options.exponentialBackoff ? Math.min(Math.max(n - 1, 0), 60) : 0;
  const raw = Math.min(options.retryDelayBase * 2 ** exponent, options.maxRetryDelay);
  const jitter = options.retryJitter > 0 ? raw * options.retryJitter * random() : 0;
  return Math.round(raw - jitter);
}
