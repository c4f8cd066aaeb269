import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  DASHBOARD_CSP,
  loadDashboardAssets,
  renderDashboardPage,
  type DashboardAsset,
} from './dashboard-assets.js';
import {
  accessOf,
  csrfCookie,
  CSRF_COOKIE,
  DashboardAccessGuard,
  newCsrfToken,
  type DashboardRequest,
} from './dashboard-access.guard.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import { DashboardErrorFilter } from './dashboard-error.filter.js';
import type { DashboardAccess, ResolvedDashboardOptions } from './dashboard.options.js';
import {
  DashboardService,
  type EntriesPageView,
  type EntriesQuery,
  type OverviewView,
} from './dashboard.service.js';
import type { EntryDetailView } from './entry-view.js';
import { DashboardRecurring, type RecurringPageView } from './recurring-view.js';

/** What `GET api/session` answers: who the browser is to the dashboard. */
export interface DashboardSession {
  readonly access: DashboardAccess;
  /** Send it back in the `x-csrf-token` header of every action. */
  readonly csrfToken: string;
  readonly refreshInterval: number;
  readonly title: string;
}

/** The URL path of a request, without its query string. */
const pathOf = (request: DashboardRequest): string => request.url.split('?')[0];

/**
 * The dashboard's routes (page, assets, JSON API), as a controller class mounted at `path`. A class
 * is made per module import so that two dashboards (or two test apps) never share a mount path.
 */
export function createDashboardController(path: string): Type<unknown> {
  @Controller(path)
  @UseGuards(DashboardAccessGuard)
  @UseFilters(DashboardErrorFilter)
  class DashboardController {
    private readonly assets: ReadonlyMap<string, DashboardAsset> = loadDashboardAssets();

    constructor(
      private readonly service: DashboardService,
      private readonly recurring: DashboardRecurring,
      private readonly adapterHost: HttpAdapterHost,
      @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    ) {}

    /** The page; the views are drawn in the browser from the API. */
    @Get()
    page(@Req() request: DashboardRequest, @Res() response: unknown): void {
      const path = pathOf(request);
      const base = path.endsWith('/') ? path : `${path}/`;
      const adapter = this.adapterHost.httpAdapter;
      adapter.setHeader(response, 'Content-Type', 'text/html; charset=utf-8');
      adapter.setHeader(response, 'Content-Security-Policy', DASHBOARD_CSP);
      adapter.setHeader(response, 'X-Frame-Options', 'DENY');
      adapter.setHeader(response, 'Referrer-Policy', 'no-referrer');
      adapter.reply(
        response,
        renderDashboardPage(base, this.options.title, this.options.refreshInterval),
        200,
      );
    }

    /** The UI's script, style sheet and icon, shipped in the package. */
    @Get('assets/:name')
    asset(
      @Param('name') name: string,
      @Req() request: DashboardRequest,
      @Res() response: unknown,
    ): void {
      const asset = this.assets.get(name);
      if (!asset) throw new NotFoundException();
      const adapter = this.adapterHost.httpAdapter;
      adapter.setHeader(response, 'Cache-Control', 'no-cache');
      adapter.setHeader(response, 'ETag', asset.etag);
      if (request.headers['if-none-match'] === asset.etag) {
        adapter.reply(response, '', 304);
        return;
      }
      adapter.setHeader(response, 'Content-Type', asset.contentType);
      adapter.reply(response, asset.body, 200);
    }

    /** The caller's access level and CSRF token (set in a cookie too when it had none). */
    @Get('api/session')
    session(@Req() request: DashboardRequest, @Res({ passthrough: true }) response: unknown) {
      let csrfToken = csrfCookie(request);
      if (!csrfToken) {
        csrfToken = newCsrfToken();
        const path = pathOf(request).replace(/\/api\/session\/?$/, '') || '/';
        this.adapterHost.httpAdapter.setHeader(
          response,
          'Set-Cookie',
          `${CSRF_COOKIE}=${csrfToken}; Path=${path}; HttpOnly; SameSite=Strict`,
        );
      }
      const session: DashboardSession = {
        access: accessOf(request),
        csrfToken,
        refreshInterval: this.options.refreshInterval,
        title: this.options.title,
      };
      return session;
    }

    @Get('api/overview')
    overview(): Promise<OverviewView> {
      return this.service.overview();
    }

    @Get('api/entries')
    entries(@Query() query: EntriesQuery): Promise<EntriesPageView> {
      return this.service.entries(query);
    }

    @Get('api/lookup')
    lookup(@Query('idempotencyKey') key: unknown): Promise<EntryDetailView> {
      return this.service.entryByIdempotencyKey(key);
    }

    @Get('api/entries/:id')
    entry(@Param('id') id: string): Promise<EntryDetailView> {
      return this.service.entry(id);
    }

    @Post('api/entries/:id/retry')
    @HttpCode(200)
    async retry(@Param('id') id: string): Promise<{ ok: true }> {
      await this.service.retry(id);
      return { ok: true };
    }

    @Post('api/entries/:id/cancel')
    @HttpCode(200)
    async cancel(@Param('id') id: string): Promise<{ ok: true }> {
      await this.service.cancel(id);
      return { ok: true };
    }

    @Post('api/entries/:id/run-now')
    @HttpCode(200)
    async runNow(@Param('id') id: string): Promise<{ ok: true }> {
      await this.service.runNow(id);
      return { ok: true };
    }

    @Post('api/entries/:id/reschedule')
    @HttpCode(200)
    async reschedule(
      @Param('id') id: string,
      @Body() body: { scheduledFor?: unknown } | undefined,
    ): Promise<{ ok: true }> {
      await this.service.reschedule(id, body?.scheduledFor);
      return { ok: true };
    }

    @Get('api/recurring')
    recurringSchedules(): Promise<RecurringPageView> {
      return this.recurring.list();
    }

    @Post('api/recurring/:name/pause')
    @HttpCode(200)
    async pause(@Param('name') name: string): Promise<{ ok: true }> {
      await this.recurring.setPaused(name, true);
      return { ok: true };
    }

    @Post('api/recurring/:name/resume')
    @HttpCode(200)
    async resume(@Param('name') name: string): Promise<{ ok: true }> {
      await this.recurring.setPaused(name, false);
      return { ok: true };
    }

    /** Runs an extra occurrence of the schedule now; answers its id. */
    @Post('api/recurring/:name/trigger')
    @HttpCode(200)
    async trigger(@Param('name') name: string): Promise<{ id: string }> {
      return { id: await this.recurring.trigger(name) };
    }

    /** Requeues every failed entry matching the list's filter (its status is ignored). */
    @Post('api/bulk/retry-failed')
    @HttpCode(200)
    async retryFailed(@Body() body: EntriesQuery | undefined): Promise<{ requeued: number }> {
      return { requeued: await this.service.retryFailed(body ?? {}) };
    }

    /** Deletes finished entries that finished before `olderThan`. */
    @Post('api/bulk/purge')
    @HttpCode(200)
    async purge(
      @Body() body: { olderThan?: unknown; statuses?: unknown } | undefined,
    ): Promise<{ deleted: number }> {
      return { deleted: await this.service.purge(body?.olderThan, body?.statuses) };
    }
  }
  return DashboardController;
}
