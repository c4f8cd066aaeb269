import { Logger } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { scheduledCommandsMigrations } from 'nestjs-scheduled-commands';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { DemoConfig } from './demo.config.js';

/** The kinds of database the demo runs on. */
export type DemoDatabaseKind = 'sqlite' | 'postgres' | 'mysql';

/** The kind of database `config` names: the scheme of `DEMO_DATABASE_URL`, or the SQLite file. */
export function demoDatabaseKind(config: DemoConfig): DemoDatabaseKind {
  if (!config.databaseUrl) return 'sqlite';
  return /^postgres(ql)?:/i.test(config.databaseUrl) ? 'postgres' : 'mysql';
}

/**
 * The demo's `users` table on MySQL/MariaDB, as TypeORM maps the `User` entity there. TypeORM cannot
 * create the scheduled commands table on these servers (the library's migrations do), so the demo
 * creates its own table with a migration too instead of `synchronize`.
 */
export class CreateDemoUsersTableMysql1767000000000 implements MigrationInterface {
  name = 'CreateDemoUsersTableMysql1767000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE IF NOT EXISTS `users` (' +
        '`id` varchar(36) NOT NULL, `email` varchar(255) NOT NULL, `name` varchar(255) NOT NULL, ' +
        '`registeredAt` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        'PRIMARY KEY (`id`), UNIQUE KEY `UQ_users_email` (`email`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `users`');
  }
}

/**
 * TypeORM options of the demo: the SQLite file `DEMO_DATABASE` by default; PostgreSQL, MySQL or
 * MariaDB when `DEMO_DATABASE_URL` is set. SQLite and PostgreSQL create the tables from the entities
 * (`synchronize`); MySQL/MariaDB run the library's migrations and the demo's own.
 */
export function demoTypeOrmOptions(config: DemoConfig): TypeOrmModuleOptions {
  const common = { autoLoadEntities: true } as const; // the library's entities and the demo's User
  const url = config.databaseUrl;
  switch (demoDatabaseKind(config)) {
    case 'sqlite':
      return { ...common, type: 'better-sqlite3', database: config.database, synchronize: true };
    case 'postgres':
      return { ...common, type: 'postgres', url, synchronize: true };
    case 'mysql': {
      const mariadb = /^mariadb:/i.test(url!);
      return {
        ...common,
        type: mariadb ? 'mariadb' : 'mysql',
        // The driver reads a mysql:// URL; the scheme only chose the TypeORM type.
        url: mariadb ? url!.replace(/^mariadb:/i, 'mysql:') : url,
        migrations: [
          ...scheduledCommandsMigrations(mariadb ? 'mariadb' : 'mysql'),
          CreateDemoUsersTableMysql1767000000000,
        ],
        migrationsRun: true,
      };
    }
  }
}

/**
 * Whether the demo declares its recurring schedule: recurring schedules are not available on
 * MySQL/MariaDB yet, so there the demo leaves `refresh-dashboard` out and logs why.
 */
export function demoHasRecurring(config: DemoConfig): boolean {
  if (demoDatabaseKind(config) !== 'mysql') return true;
  new Logger('Demo').log(
    'Recurring schedules are not supported on MySQL/MariaDB yet: refresh-dashboard is not declared',
  );
  return false;
}
