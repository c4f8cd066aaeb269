import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ScheduledCommandsDashboardModule } from 'nestjs-scheduled-commands/dashboard';
import { BasicAuthMiddleware } from './basic-auth.middleware.js';
import { basicAuthAccess } from './dashboard-users.js';

/** Where the demo mounts the dashboard. */
export const DASHBOARD_PATH = 'dashboard';

/**
 * The dashboard at `/dashboard`, behind HTTP Basic auth: the admin user may act, the viewer may only
 * look (see `dashboardUsers`).
 */
@Module({
  imports: [
    ScheduledCommandsDashboardModule.forRoot({
      path: DASHBOARD_PATH,
      access: (request: { headers: { authorization?: string } }) =>
        basicAuthAccess(request.headers.authorization),
    }),
  ],
})
export class DemoDashboardModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(BasicAuthMiddleware).forRoutes(DASHBOARD_PATH, `${DASHBOARD_PATH}/*path`);
  }
}
