export * from './in-memory-scheduled-command-store.js';
