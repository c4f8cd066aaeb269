/**
 * Test helpers of `nestjs-scheduled-commands`, imported from `nestjs-scheduled-commands/testing`:
 * the store conformance suite for your own `ScheduledCommandStore`, a manual clock to drive time,
 * and a builder of valid new commands.
 *
 * This entry point imports `vitest` (`describe`, `it`, `expect`, `beforeEach`, `afterEach`), so
 * `vitest` must be installed where it is used; the main entry point never loads it.
 */
export { ManualClock } from './manual-clock.js';
export { newCommand } from './new-command.js';
export { describeStoreConformance, type StoreHarness } from './store-conformance.js';
