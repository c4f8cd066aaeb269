import { ConfigurableModuleBuilder, type Provider, type Type } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Clock } from './clock.js';
import { InvalidModuleOptionsError } from './errors/index.js';
import { messages } from './scheduled-commands.messages.js';
import type { ScheduledCommandsModuleOptions } from './scheduled-commands.options.js';
import { ScheduledCommandStore } from './store/scheduled-command-store.js';
import {
  RecurringScheduleEntity,
  ScheduledCommandEntity,
  TypeOrmScheduledCommandStore,
} from './store/typeorm/index.js';

/**
 * Settings given beside the options (in `forRoot({...})` and in `forRootAsync({...})` alike) because they
 * decide which providers and imports the module declares.
 */
export interface ScheduledCommandsModuleExtras {
  /**
   * Where commands are stored: a `ScheduledCommandStore` class (instantiated by Nest, so it can inject
   * anything) or instance. @default TypeOrmScheduledCommandStore on the TypeORM data source `dataSource`
   */
  store?: Type<ScheduledCommandStore> | ScheduledCommandStore;
  /** Name of the TypeORM data source the default store uses. @default 'default' */
  dataSource?: string;
  /** Make `CommandScheduler` and `ScheduledCommandStore` injectable everywhere without importing the module. @default true */
  isGlobal?: boolean;
}

function storeProvider(extras: ScheduledCommandsModuleExtras): Provider {
  const { store } = extras;
  if (store === undefined) {
    return {
      provide: ScheduledCommandStore,
      useFactory: (dataSource: DataSource, clock: Clock) =>
        new TypeOrmScheduledCommandStore(dataSource, clock),
      inject: [getDataSourceToken(extras.dataSource ?? 'default'), Clock],
    };
  }
  if (typeof store === 'function') return { provide: ScheduledCommandStore, useClass: store };
  if (store !== null && typeof store === 'object' && typeof store.claim === 'function') {
    return { provide: ScheduledCommandStore, useValue: store };
  }
  throw new InvalidModuleOptionsError(
    'store',
    messages.invalidModuleOption('store', store, 'a ScheduledCommandStore class or instance'),
  );
}

export const {
  ConfigurableModuleClass: ConfigurableScheduledCommandsModule,
  MODULE_OPTIONS_TOKEN: SCHEDULED_COMMANDS_MODULE_OPTIONS,
  OPTIONS_TYPE: SCHEDULED_COMMANDS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SCHEDULED_COMMANDS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ScheduledCommandsModuleOptions>({
  moduleName: 'ScheduledCommands',
})
  .setClassMethodName('forRoot')
  .setExtras<ScheduledCommandsModuleExtras>(
    // Every extra is listed so that none of them leaks into the module options.
    { isGlobal: true, dataSource: 'default', store: undefined },
    (definition, extras) => {
      const dataSource = extras.dataSource ?? 'default';
      if (typeof dataSource !== 'string' || dataSource === '') {
        throw new InvalidModuleOptionsError(
          'dataSource',
          messages.invalidModuleOption('dataSource', dataSource, 'a data source name'),
        );
      }
      // The default store, or a class of the user's that extends it, needs the entity registered.
      const usesTypeOrm =
        extras.store === undefined ||
        (typeof extras.store === 'function' &&
          (extras.store === TypeOrmScheduledCommandStore ||
            extras.store.prototype instanceof TypeOrmScheduledCommandStore));
      return {
        ...definition,
        global: extras.isGlobal ?? true,
        imports: [
          ...(definition.imports ?? []),
          ...(usesTypeOrm
            ? [
                TypeOrmModule.forFeature(
                  [ScheduledCommandEntity, RecurringScheduleEntity],
                  dataSource,
                ),
              ]
            : []),
        ],
        providers: [...(definition.providers ?? []), storeProvider(extras)],
      };
    },
  )
  .build();
