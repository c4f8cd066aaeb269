import { describe, expect, it } from 'vitest';
import { InvalidModuleOptionsError } from './errors/index.js';
import {
  resolveScheduledCommandsOptions,
  SCHEDULED_COMMANDS_DEFAULTS,
} from './scheduled-commands.options.js';

describe('resolveScheduledCommandsOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveScheduledCommandsOptions({});
    expect(o).toMatchObject({
      enabled: true,
      pollingInterval: 5000,
      batchSize: 50,
      maxRetries: 3,
      retryDelayBase: 10_000,
      exponentialBackoff: true,
      maxRetryDelay: 3_600_000,
      retryJitter: 0,
    });
    expect(o.retention).toEqual({
      completed: 7 * 86_400_000,
      failed: 30 * 86_400_000,
      cancelled: 30 * 86_400_000,
      expired: 30 * 86_400_000,
    });
    expect(o.workerId).toMatch(/:\d+:/);
    expect(SCHEDULED_COMMANDS_DEFAULTS.pollingInterval).toBe(5000);
  });

  it('keeps given values, including retention false', () => {
    const o = resolveScheduledCommandsOptions({
      pollingInterval: 100,
      retention: { completed: false, failed: 1000 },
      workerId: 'w1',
    });
    expect(o.pollingInterval).toBe(100);
    expect(o.retention.completed).toBe(false);
    expect(o.retention.failed).toBe(1000);
    expect(o.workerId).toBe('w1');
  });

  it.each([
    ['pollingInterval', { pollingInterval: 0 }],
    ['batchSize', { batchSize: 1.5 }],
    ['maxRetries', { maxRetries: -1 }],
    ['retryDelayBase', { retryDelayBase: -5 }],
    ['exponentialBackoff', { exponentialBackoff: 'yes' }],
    ['retryJitter', { retryJitter: 2 }],
    ['enabled', { enabled: 1 }],
    ['retention.completed', { retention: { completed: -1 } }],
    ['leaseDuration', { leaseDuration: 10 }],
    ['concurrency', { concurrency: 0 }],
    ['commands', { commands: ['x'] }],
    ['clock', { clock: {} }],
  ])('rejects %s at start-up with an error naming the field', (name, options) => {
    try {
      resolveScheduledCommandsOptions(options as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidModuleOptionsError);
      expect((error as InvalidModuleOptionsError).field).toBe(name);
      expect((error as Error).message).toContain(`"${name}"`);
    }
  });
});
