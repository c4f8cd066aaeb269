import { Module, type DynamicModule } from '@nestjs/common';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { createDashboardController } from './dashboard.controller.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import { DashboardErrorFilter } from './dashboard-error.filter.js';
import {
  resolveDashboardOptions,
  type ScheduledCommandsDashboardOptions,
} from './dashboard.options.js';
import { DashboardService } from './dashboard.service.js';
import { DashboardRecurring } from './recurring-view.js';
import { ThroughputRecorder } from './throughput-recorder.js';

/**
 * A web dashboard for scheduled commands, mounted inside the host app (Express or Fastify adapter):
 *
 * ```ts
 * ScheduledCommandsDashboardModule.forRoot({
 *   path: 'admin/jobs',
 *   access: (req) => (req.user?.isAdmin ? 'all' : req.user ? 'read-only' : 'none'),
 * })
 * ```
 *
 * Import it next to `ScheduledCommandsModule` (it uses its `CommandScheduler`). Host guards apply
 * to its routes as to any controller's; `access` then decides what each request may do.
 *
 * @throws InvalidModuleOptionsError at start-up when `access` is missing or an option is invalid.
 */
@Module({})
export class ScheduledCommandsDashboardModule {
  /** Mounts the dashboard at `options.path`. */
  static forRoot(options: ScheduledCommandsDashboardOptions): DynamicModule {
    const resolved = resolveDashboardOptions(options);
    return {
      module: ScheduledCommandsDashboardModule,
      controllers: [createDashboardController(resolved.path)],
      providers: [
        { provide: DASHBOARD_OPTIONS, useValue: resolved },
        DashboardAccessGuard,
        DashboardErrorFilter,
        DashboardService,
        DashboardRecurring,
        ThroughputRecorder,
      ],
    };
  }
}
