import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import {
  DASHBOARD_ACCESS_LEVELS,
  type DashboardAccess,
  type ResolvedDashboardOptions,
} from './dashboard.options.js';

/** Name of the cookie that holds the CSRF token (double-submit: the header must repeat it). */
export const CSRF_COOKIE = 'scd_csrf';
/** Header that state-changing requests carry the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Minimal view of a request that both adapters (Express, Fastify) give. */
export interface DashboardRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The access level the guard decided for each request (read by the controller). */
const decided = new WeakMap<object, DashboardAccess>();

/** The access level the guard decided for `request`. */
export function accessOf(request: object): DashboardAccess {
  return decided.get(request) ?? 'none';
}

/** The CSRF token the browser sent in its cookie, when well-formed. */
export function csrfCookie(request: DashboardRequest): string | null {
  const header = request.headers.cookie;
  const cookies = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of cookies.split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === CSRF_COOKIE && value && TOKEN.test(value)) return value;
  }
  return null;
}

/** A new random CSRF token (32 bytes, base64url). */
export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Guards every dashboard route, after the host app's own guards:
 * - asks the `access` function (a rejection or an unknown answer counts as `'none'`);
 * - `'none'` gets 403 everywhere;
 * - a state-changing request (anything but GET/HEAD/OPTIONS) needs `'all'` and a CSRF token in the
 *   `x-csrf-token` header equal to the `scd_csrf` cookie, or it gets 403.
 */
@Injectable()
export class DashboardAccessGuard implements CanActivate {
  private readonly logger = new Logger('ScheduledCommandsDashboard');

  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<DashboardRequest>();
    const adapter = this.adapterHost.httpAdapter;
    const response: unknown = http.getResponse();
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.setHeader(response, 'X-Content-Type-Options', 'nosniff');

    const access = await this.decide(request);
    decided.set(request, access);
    if (access === 'none') throw new ForbiddenException('No access to the dashboard');
    if (SAFE_METHODS.has(request.method.toUpperCase())) return true;
    if (access !== 'all') throw new ForbiddenException('Actions need full dashboard access');
    const header = request.headers[CSRF_HEADER];
    const cookie = csrfCookie(request);
    if (
      typeof header !== 'string' ||
      cookie === null ||
      header.length !== cookie.length ||
      !timingSafeEqual(Buffer.from(header), Buffer.from(cookie))
    ) {
      throw new ForbiddenException('Missing or wrong CSRF token');
    }
    return true;
  }

  private async decide(request: DashboardRequest): Promise<DashboardAccess> {
    try {
      const access = await this.options.access(request);
      return DASHBOARD_ACCESS_LEVELS.includes(access) ? access : 'none';
    } catch (error) {
      this.logger.error(
        `The dashboard access function failed; access denied: ${
          error instanceof Error ? (error.stack ?? error.message) : String(error)
        }`,
      );
      return 'none';
    }
  }
}
