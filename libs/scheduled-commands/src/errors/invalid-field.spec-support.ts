import { expect } from 'vitest';
import { InvalidScheduleOptionsError } from './invalid-schedule-options.error.js';

/**
 * For specs: runs `fn` and returns the `field` of the `InvalidScheduleOptionsError` (or subclass) it
 * throws, or `undefined` when it does not throw. Any other error fails the test.
 */
export function invalidField(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidScheduleOptionsError);
    return (error as InvalidScheduleOptionsError).field;
  }
  return undefined;
}
