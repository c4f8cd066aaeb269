import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { demoConfig } from './demo.config.js';

/** Starts the demo: HTTP on `PORT` (default 3000), the worker, and the story (unless `DEMO_STORY=off`). */
async function bootstrap(): Promise<void> {
  const config = demoConfig();
  const app = await NestFactory.create(AppModule);
  // Ctrl+C / SIGTERM stop the worker gracefully: running handlers finish, the database is closed last.
  app.enableShutdownHooks();
  await app.listen(config.port);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://localhost:${port}`;
  Logger.log(`Demo listening on ${url} (database: ${config.database})`, 'Demo');
  Logger.log(
    `Try: curl ${url}/admin/scheduled-commands   or   curl ${url}/admin/scheduled-commands/entries`,
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
