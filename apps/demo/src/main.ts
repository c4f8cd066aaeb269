import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { DASHBOARD_PATH } from './dashboard/demo-dashboard.module.js';
import { dashboardUsers } from './dashboard/dashboard-users.js';
import { demoConfig, describeDemoDatabase } from './demo.config.js';

/** Starts the demo: HTTP on `PORT` (default 3000), the worker, and the story (unless `DEMO_STORY=off`). */
async function bootstrap(): Promise<void> {
  const config = demoConfig();
  const app = await NestFactory.create(AppModule);
  // Ctrl+C / SIGTERM stop the worker gracefully: running handlers finish, the database is closed last.
  app.enableShutdownHooks();
  await app.listen(config.port);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://localhost:${port}`;
  Logger.log(`Demo listening on ${url} (database: ${describeDemoDatabase(config)})`, 'Demo');
  Logger.log(
    `Try: curl ${url}/admin/scheduled-commands   or   curl ${url}/admin/scheduled-commands/entries`,
    'Demo',
  );
  const users = dashboardUsers();
  Logger.log(
    `Dashboard: ${url}/${DASHBOARD_PATH} (HTTP Basic: ${users[0].user}/${
      process.env.DASHBOARD_PASSWORD ? '<DASHBOARD_PASSWORD>' : users[0].password
    } may act, ${users[1].user}/${
      process.env.DASHBOARD_VIEWER_PASSWORD ? '<DASHBOARD_VIEWER_PASSWORD>' : users[1].password
    } may look; set DASHBOARD_USER, DASHBOARD_PASSWORD, DASHBOARD_VIEWER_USER, DASHBOARD_VIEWER_PASSWORD)`,
    'Demo',
  );
}

bootstrap().catch((error: unknown) => {
  Logger.error(
    error instanceof Error ? (error.stack ?? error.message) : String(error),
    undefined,
    'Demo',
  );
  process.exit(1);
});
