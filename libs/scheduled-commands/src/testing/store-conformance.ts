import { describe } from 'vitest';
import { describeClaiming } from './conformance/claiming.js';
import { createConformanceContext, type StoreHarness } from './conformance/context.js';
import { describeLeases } from './conformance/leases.js';
import { describeLifecycle } from './conformance/lifecycle.js';
import { describeMaintenance } from './conformance/maintenance.js';
import { describeOutcomes } from './conformance/outcomes.js';
import { describeQueries } from './conformance/queries.js';
import { describeScheduling } from './conformance/scheduling.js';

export type { StoreHarness } from './conformance/context.js';

/**
 * Registers the `ScheduledCommandStore` conformance suite with Vitest: every rule of the store
 * contract (scheduling, idempotency, claims and leases, completion, retries, dead-lettering,
 * lease recovery, expiry, cancel, reschedule, requeue, queries, counts, statistics, purge and races
 * between concurrent calls) as one test each. Run it from a spec file of your own store:
 *
 * ```ts
 * import { describeStoreConformance, ManualClock } from 'nestjs-scheduled-commands/testing/conformance';
 *
 * describeStoreConformance('MyStore', async () => {
 *   const clock = new ManualClock();
 *   const store = await MyStore.open({ clock });
 *   return { store, clock, close: () => store.close() };
 * });
 * ```
 *
 * `setup` runs before every test and must return an empty store; `close` runs after it. Pass the
 * `ManualClock` the store uses when it takes an injected clock: time then moves only when the
 * suite advances it and times are checked exactly. Omit it for a store on a database clock: the suite
 * then uses short real delays (well under a second per test) and tolerates one second of difference
 * between the database clock and this process's clock.
 *
 * Needs `vitest` (an optional peer dependency, needed by the `nestjs-scheduled-commands/testing/conformance` entry point).
 *
 * @param name shown in the test report (e.g. the store class name)
 * @param setup creates an empty store for one test
 */
export function describeStoreConformance(name: string, setup: () => Promise<StoreHarness>): void {
  describe(`${name} conforms to ScheduledCommandStore`, () => {
    // One topic a file under ./conformance/, each sharing the store and helpers of this context.
    const t = createConformanceContext(setup);
    describeScheduling(t);
    describeClaiming(t);
    describeOutcomes(t);
    describeLeases(t);
    describeMaintenance(t);
    describeLifecycle(t);
    describeQueries(t);
  });
}
