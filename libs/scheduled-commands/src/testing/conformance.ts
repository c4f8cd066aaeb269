/**
 * The store conformance suite, imported from `nestjs-scheduled-commands/testing/conformance`: run it
 * against your own `ScheduledCommandStore` to check every rule of the contract. It is written with
 * `vitest` (`describe`, `it`, `expect`, hooks), so `vitest` (an optional peer dependency) must be
 * installed; the other entry points never load it.
 */
export { describeStoreConformance, type StoreHarness } from './store-conformance.js';
export { ManualClock } from './manual-clock.js';
export { newCommand } from './new-command.js';
