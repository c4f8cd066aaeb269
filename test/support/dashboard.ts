import type { AddressInfo } from 'node:net';
import {
  Injectable,
  Module,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Clock,
  CommandPoller,
  CommandScheduler,
  ScheduledCommandsModule,
  type ScheduledCommandsModuleOptions,
} from 'nestjs-scheduled-commands';
import {
  ScheduledCommandsDashboardModule,
  type DashboardAccess,
} from 'nestjs-scheduled-commands/dashboard';
import { tempDatabase } from './app.js';
import { allHandlers, Journal } from './commands.js';

/** The HTTP adapters the dashboard supports. */
export type AdapterName = 'express' | 'fastify';

/** Users of the test apps, by the `x-user` header: admin (all), viewer (read-only), anyone else none. */
export function accessByHeader(request: { headers: Record<string, unknown> }): DashboardAccess {
  const user = request.headers['x-user'];
  return user === 'admin' ? 'all' : user === 'viewer' ? 'read-only' : 'none';
}

/** A host guard: refuses every request that carries `x-blocked` (to show host guards still apply). */
@Injectable()
class HostGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    return request.headers['x-blocked'] === undefined;
  }
}

export interface DashboardApp {
  app: INestApplication;
  scheduler: CommandScheduler;
  journal: Journal;
  /** Absolute URL of the dashboard, with a trailing slash. */
  url: string;
  /** Runs a worker pass and waits until every command it started is written back. */
  runDue(): Promise<void>;
  close(): Promise<void>;
}

/** Boots an app (SQLite, the library, the dashboard at `path`) listening on 127.0.0.1. */
export async function createDashboardApp(
  opts: {
    adapter?: AdapterName;
    path?: string;
    options?: ScheduledCommandsModuleOptions & { clock?: Clock };
    /** How often the dashboard's pages refresh themselves. */
    refreshInterval?: number;
  } = {},
): Promise<DashboardApp> {
  const db = tempDatabase();
  const path = opts.path ?? 'admin/jobs';

  @Module({
    imports: [
      CqrsModule.forRoot(),
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: db.file,
        autoLoadEntities: true,
        synchronize: true,
      }),
      ScheduledCommandsModule.forRoot({ pollingInterval: 60_000, ...opts.options }),
      ScheduledCommandsDashboardModule.forRoot({
        path,
        access: accessByHeader,
        refreshInterval: opts.refreshInterval,
      }),
    ],
    providers: [...allHandlers, { provide: APP_GUARD, useClass: HostGuard }],
  })
  class DashboardTestModule {}

  const moduleRef = await Test.createTestingModule({ imports: [DashboardTestModule] }).compile();
  moduleRef.useLogger(process.env.TEST_LOGS ? undefined! : ['error']);
  const app =
    opts.adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter())
      : moduleRef.createNestApplication();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const poller = app.get(CommandPoller);
  return {
    app,
    scheduler: app.get(CommandScheduler),
    journal: app.get(Journal),
    url: `http://127.0.0.1:${port}/${path}/`,
    async runDue() {
      await poller.tick();
      await poller.drain();
    },
    async close() {
      await app.close();
      db.remove();
    },
  };
}

/** A browser-like API client: keeps the CSRF cookie and sends the token back on actions. */
export class DashboardClient {
  private cookie = '';
  token = '';

  constructor(
    private readonly base: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** `GET api/session`; keeps the cookie and token it hands out. */
  async session(): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.base}api/session`, { headers: this.all() });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const body = (await response.json()) as Record<string, unknown>;
    if (typeof body.csrfToken === 'string') this.token = body.csrfToken;
    return { status: response.status, body };
  }

  async get(path: string): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.base}${path}`, { headers: this.all() });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  /** POSTs JSON; with `csrf: false` the token header is left out (the cookie is still sent). */
  async post(
    path: string,
    body: unknown = {},
    { csrf = true }: { csrf?: boolean } = {},
  ): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: {
        ...this.all(),
        'content-type': 'application/json',
        ...(csrf ? { 'x-csrf-token': this.token } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  private all(): Record<string, string> {
    return { ...this.headers, ...(this.cookie ? { cookie: this.cookie } : {}) };
  }
}
