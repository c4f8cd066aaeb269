export * from './scheduled-command-entry.js';
export * from './scheduled-command-store.js';
export * from './store-transaction.js';
export * from './recurring-schedule-record.js';
