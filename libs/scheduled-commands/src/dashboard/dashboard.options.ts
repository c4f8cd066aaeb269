import { InvalidModuleOptionsError } from '../errors/index.js';

/**
 * What a request may do in the dashboard:
 * - `'all'`: see everything and act (retry, cancel, reschedule, run now, bulk retry, purge);
 * - `'read-only'`: see everything, act on nothing (the API answers 403 to every action);
 * - `'none'`: nothing (403 on every page and API call).
 */
export type DashboardAccess = 'all' | 'read-only' | 'none';

/** Every access level, from most to least. */
export const DASHBOARD_ACCESS_LEVELS: readonly DashboardAccess[] = ['all', 'read-only', 'none'];

/**
 * Decides the access level of one request. It gets the adapter's own request object (Express or
 * Fastify), after the host's guards and middleware ran, so it can read `request.user`, a header or a
 * session. Anything other than one of the three levels counts as `'none'`; so does a rejection.
 */
export type DashboardAccessFunction = (
  request: any, // the adapter's own request object
) => DashboardAccess | Promise<DashboardAccess>;

/** Options of `ScheduledCommandsDashboardModule.forRoot()`. */
export interface ScheduledCommandsDashboardOptions {
  /**
   * Where the dashboard is mounted in the host app, e.g. `'admin/jobs'`. Its pages and its JSON API
   * (`<path>/api/...`) live under it; the app's global prefix, if any, comes before it.
   */
  path: string;
  /** Required: decides what each request may do (see {@link DashboardAccess}). */
  access: DashboardAccessFunction;
  /** How often open pages refresh themselves, in milliseconds (500..60000). @default 3000 */
  refreshInterval?: number;
  /** Title shown in the header and the browser tab. @default 'Scheduled commands' */
  title?: string;
}

/** {@link ScheduledCommandsDashboardOptions} with defaults applied and the path normalised. */
export interface ResolvedDashboardOptions {
  /** Without leading or trailing slashes (`''` for the root). */
  readonly path: string;
  readonly access: DashboardAccessFunction;
  readonly refreshInterval: number;
  readonly title: string;
}

const invalid = (field: string, value: unknown, expected: string) =>
  new InvalidModuleOptionsError(
    field,
    `Invalid ScheduledCommandsDashboardModule option "${field}": ${
      typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value))
    } (expected ${expected}).`,
  );

/**
 * Applies the defaults and validates the options once, at start-up.
 * @throws InvalidModuleOptionsError naming the field: no `access` function (the dashboard is never
 *   open by default), a `path` that is not a plain URL path, a `refreshInterval` out of range.
 */
export function resolveDashboardOptions(
  options: ScheduledCommandsDashboardOptions | undefined,
): ResolvedDashboardOptions {
  const o = (options ?? {}) as Partial<ScheduledCommandsDashboardOptions>;
  if (typeof o.access !== 'function') {
    throw invalid(
      'access',
      o.access,
      "a function (request) => 'all' | 'read-only' | 'none'; the dashboard is never open without one",
    );
  }
  if (typeof o.path !== 'string' || !/^\/?([\w.~-]+\/?)*$/.test(o.path)) {
    throw invalid('path', o.path, "a URL path such as 'admin/jobs'");
  }
  const refreshInterval = o.refreshInterval ?? 3_000;
  if (!Number.isInteger(refreshInterval) || refreshInterval < 500 || refreshInterval > 60_000) {
    throw invalid('refreshInterval', refreshInterval, 'an integer from 500 to 60000');
  }
  const title = o.title ?? 'Scheduled commands';
  if (typeof title !== 'string' || title.length === 0 || title.length > 100) {
    throw invalid('title', title, 'a string of 1 to 100 characters');
  }
  return {
    path: o.path.replace(/^\/+|\/+$/g, ''),
    access: o.access,
    refreshInterval,
    title,
  };
}
