import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { ClsPluginTransactional, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { DataSource } from 'typeorm';
import {
  CommandScheduler,
  InMemoryScheduledCommandStore,
  ScheduledCommandsModule,
  TransactionsNotSupportedError,
} from 'nestjs-scheduled-commands';
import { createTestApp, until } from './support/app.js';
import { testDatabases, type OpenedDatabase } from './support/databases.js';
import { allHandlers, Journal, LabelCommand, WelcomeCommand } from './support/commands.js';

type TxHost = TransactionHost<TransactionalAdapterTypeOrm>;

/** A service in the usual `@nestjs-cls/transactional` style: it never passes a manager around. */
@Injectable()
class Registration {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly scheduler: CommandScheduler,
  ) {}

  @Transactional()
  async register(userId: string, fail: boolean): Promise<string> {
    const param = this.txHost.tx.connection.options.type === 'postgres' ? '$1' : '?';
    await this.txHost.tx.query(`INSERT INTO cls_users (id) VALUES (${param})`, [userId]);
    const id = await this.scheduler.schedule(new WelcomeCommand(userId));
    if (fail) throw new Error(`registration of ${userId} failed`);
    return id;
  }

  /** Outside any transaction: the command is stored on its own. */
  async remind(userId: string): Promise<string> {
    return this.scheduler.schedule(new LabelCommand(`remind:${userId}`));
  }
}

async function bootApp(typeorm: Record<string, unknown>): Promise<INestApplication> {
  @Module({
    imports: [
      CqrsModule.forRoot(),
      TypeOrmModule.forRoot(typeorm as never),
      ClsModule.forRoot({
        global: true,
        plugins: [
          new ClsPluginTransactional({
            imports: [TypeOrmModule],
            adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }),
          }),
        ],
      }),
      // The one line that joins the ambient transaction: `ambientTransaction: () => txHost.tx`.
      ScheduledCommandsModule.forRootAsync({
        inject: [TransactionHost],
        useFactory: (txHost: TxHost) => ({
          pollingInterval: 60_000,
          ambientTransaction: () => txHost.tx,
        }),
      }),
    ],
    providers: [...allHandlers, Registration],
  })
  class ClsAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [ClsAppModule] }).compile();
  moduleRef.useLogger(['error']);
  const app = moduleRef.createNestApplication();
  await app.init();
  return app;
}

for (const database of testDatabases) {
  describe.skipIf(database.skip)(
    `ambient transactions with @nestjs-cls/transactional (${database.name})`,
    () => {
      let app: INestApplication;
      let dataSource: DataSource;
      let journal: Journal;
      let db: OpenedDatabase;

      beforeAll(async () => {
        db = await database.open();
        app = await bootApp(db.typeorm);
        dataSource = app.get(DataSource);
        journal = app.get(Journal);
        await dataSource.query('CREATE TABLE cls_users (id varchar(50) PRIMARY KEY)');
      });

      afterAll(async () => {
        await app?.close();
        await db?.close();
      });

      beforeEach(() => {
        journal.runs.length = 0;
      });

      it('a @Transactional() method schedules in its transaction: stored and started after the commit', async () => {
        const id = await app.get(Registration).register('ada', false);
        await until(() => journal.names().includes('welcome:ada'));
        const scheduler = app.get(CommandScheduler);
        await until(async () => (await scheduler.getStatus(id))?.status === 'completed');
        expect(await dataSource.query(`SELECT id FROM cls_users WHERE id = 'ada'`)).toHaveLength(1);
      });

      it('a rolled-back @Transactional() method leaves no command behind', async () => {
        await expect(app.get(Registration).register('bob', true)).rejects.toThrow(
          'registration of bob failed',
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        const scheduler = app.get(CommandScheduler);
        expect(
          (await scheduler.find({ commandType: 'welcome' })).items.map((e) => e.payload),
        ).not.toContain(expect.stringContaining('bob'));
        expect(journal.names()).not.toContain('welcome:bob');
        expect(await dataSource.query(`SELECT id FROM cls_users WHERE id = 'bob'`)).toHaveLength(0);
      });

      it('outside a transaction the ambient provider gives no transaction and the command is stored at once', async () => {
        const id = await app.get(Registration).remind('cy');
        await until(() => journal.names().includes('remind:cy'));
        expect(await app.get(CommandScheduler).getStatus(id)).not.toBeNull();
      });
    },
  );
}

describe('a store that cannot join transactions', () => {
  it('refuses manager with TransactionsNotSupportedError and stores nothing', async () => {
    const store = new InMemoryScheduledCommandStore();
    const t = await createTestApp({ options: { store }, providers: allHandlers });
    try {
      const dataSource = t.app.get(DataSource);
      await dataSource.transaction(async (manager) => {
        await expect(
          t.scheduler.schedule(new LabelCommand('x'), { manager }),
        ).rejects.toBeInstanceOf(TransactionsNotSupportedError);
        await expect(
          t.scheduler.scheduleMany([{ command: new LabelCommand('y') }], { manager }),
        ).rejects.toBeInstanceOf(TransactionsNotSupportedError);
      });
      expect((await store.getStatistics()).total).toBe(0);
    } finally {
      await t.close();
    }
  });
});
