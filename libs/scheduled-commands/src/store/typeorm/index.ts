export * from './scheduled-command.entity.js';
export * from './recurring-schedule.entity.js';
export * from './typeorm-scheduled-command-store.js';
export * from './migrations/index.js';
