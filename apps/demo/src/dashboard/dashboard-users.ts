import { timingSafeEqual } from 'node:crypto';
import type { DashboardAccess } from 'nestjs-scheduled-commands/dashboard';

/** One user of the demo's dashboard. */
interface DashboardUser {
  readonly user: string;
  readonly password: string;
  readonly access: DashboardAccess;
}

/**
 * The demo's two dashboard users, from the environment: `DASHBOARD_USER`/`DASHBOARD_PASSWORD`
 * (default admin/admin, full access) and `DASHBOARD_VIEWER_USER`/`DASHBOARD_VIEWER_PASSWORD`
 * (default viewer/viewer, read-only).
 */
export function dashboardUsers(env: NodeJS.ProcessEnv = process.env): DashboardUser[] {
  return [
    {
      user: env.DASHBOARD_USER || 'admin',
      password: env.DASHBOARD_PASSWORD || 'admin',
      access: 'all',
    },
    {
      user: env.DASHBOARD_VIEWER_USER || 'viewer',
      password: env.DASHBOARD_VIEWER_PASSWORD || 'viewer',
      access: 'read-only',
    },
  ];
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The access of an HTTP Basic `Authorization` header: `'none'` unless it names a known user. */
export function basicAuthAccess(
  authorization: unknown,
  users: readonly DashboardUser[] = dashboardUsers(),
): DashboardAccess {
  if (typeof authorization !== 'string' || !authorization.startsWith('Basic ')) return 'none';
  const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'none';
  const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  const found = users.find((u) => same(u.user, user) && same(u.password, password));
  return found ? found.access : 'none';
}
