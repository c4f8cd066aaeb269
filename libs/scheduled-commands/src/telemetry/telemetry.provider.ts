import type { Provider } from '@nestjs/common';
import { LifecycleEvents } from '../events/lifecycle-events.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import { loadOpenTelemetryApi } from './opentelemetry-api.js';
import { ScheduledCommandsTelemetry } from './scheduled-commands-telemetry.js';

/**
 * The telemetry of one module instance: `@opentelemetry/api` is loaded here, once, if it is installed
 * and telemetry is enabled.
 */
export const telemetryProvider: Provider = {
  provide: ScheduledCommandsTelemetry,
  useFactory: async (
    options: ResolvedScheduledCommandsOptions,
    store: ScheduledCommandStore,
    lifecycle: LifecycleEvents,
  ) => {
    const api = options.telemetry.enabled ? await loadOpenTelemetryApi() : null;
    const telemetry = new ScheduledCommandsTelemetry(api, options.telemetry, () =>
      store.countByStatus(),
    );
    telemetry.listen(lifecycle);
    return telemetry;
  },
  inject: [SCHEDULED_COMMANDS_RESOLVED_OPTIONS, ScheduledCommandStore, LifecycleEvents],
};
