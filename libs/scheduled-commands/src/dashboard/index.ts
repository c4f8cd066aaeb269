export { ScheduledCommandsDashboardModule } from './dashboard.module.js';
export {
  DASHBOARD_ACCESS_LEVELS,
  type DashboardAccess,
  type DashboardAccessFunction,
  type ScheduledCommandsDashboardOptions,
} from './dashboard.options.js';
export { CSRF_COOKIE, CSRF_HEADER } from './dashboard-access.guard.js';
export { DASHBOARD_CSP } from './dashboard-assets.js';
export type { DashboardSession } from './dashboard.controller.js';
export type { EntriesPageView, OverviewView } from './dashboard.service.js';
export type { EntryDetailView, EntrySummaryView } from './entry-view.js';
export type { RecurringPageView, RecurringScheduleView } from './recurring-view.js';
export type { Throughput, ThroughputSeries } from './throughput-recorder.js';
