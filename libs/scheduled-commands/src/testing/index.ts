/**
 * Test helpers of `nestjs-scheduled-commands`, imported from `nestjs-scheduled-commands/testing`:
 * a manual clock to drive time and a builder of valid new commands. They work with any test runner.
 *
 * The store conformance suite for your own `ScheduledCommandStore` is in
 * `nestjs-scheduled-commands/testing/conformance`, which needs `vitest`.
 */
export { ManualClock } from './manual-clock.js';
export { newCommand } from './new-command.js';
