import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ScheduledCommandsModule } from 'nestjs-scheduled-commands';
import { AdminModule } from './admin/admin.module.js';
import { BillingModule } from './billing/billing.module.js';
import { DemoDashboardModule } from './dashboard/demo-dashboard.module.js';
import { demoConfig } from './demo.config.js';
import { demoHasRecurring, demoTypeOrmOptions } from './demo-database.js';
import { EmailsModule } from './emails/emails.module.js';
import { IntegrationsModule } from './integrations/integrations.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { RefreshDashboardCommand } from './reports/refresh-dashboard.command.js';
import { ReportsModule } from './reports/reports.module.js';
import { SharedModule } from './shared/shared.module.js';
import { StoryModule } from './story/story.module.js';
import { UsersModule } from './users/users.module.js';

/**
 * The demo application: a SQLite database (the file `DEMO_DATABASE`, default `demo.sqlite`), or the
 * PostgreSQL, MySQL or MariaDB server of `DEMO_DATABASE_URL`, holds the users and the scheduled
 * commands; the worker polls every second and retries after 1 s, 2 s, 4 s...
 * so the whole story plays out in well under a minute.
 */
@Module({
  imports: [
    CqrsModule.forRoot(),
    // forRootAsync so the database is read from the environment when the app starts, not when this
    // file is imported (tests set DEMO_DATABASE or DEMO_DATABASE_URL before they create the app).
    TypeOrmModule.forRootAsync({ useFactory: () => demoTypeOrmOptions(demoConfig()) }),
    ScheduledCommandsModule.forRootAsync({
      useFactory: () => ({
        pollingInterval: 1_000,
        batchSize: 50,
        concurrency: 4,
        maxRetries: 3,
        retryDelayBase: 1_000,
        exponentialBackoff: true,
        leaseDuration: 10_000,
        shutdownTimeout: 5_000,
        // A durable, cluster-safe replacement for an @Cron method: one occurrence per fire time.
        recurring: demoHasRecurring(demoConfig())
          ? [
              {
                name: 'refresh-dashboard',
                command: new RefreshDashboardCommand(),
                cron: '*/30 * * * * *',
              },
            ]
          : [],
      }),
    }),
    SharedModule,
    UsersModule,
    EmailsModule,
    BillingModule,
    ReportsModule,
    IntegrationsModule,
    AdminModule,
    DemoDashboardModule,
    ObservabilityModule,
    StoryModule,
  ],
})
export class AppModule {}
