export * from './scheduled-command-event.js';
export * from './scheduled-command-completed.event.js';
export * from './scheduled-command-failed.event.js';
export * from './scheduled-command-retrying.event.js';
export * from './scheduled-command-expired.event.js';
export * from './scheduled-command-cancelled.event.js';
export * from './scheduled-command-rescheduled.event.js';
export * from './scheduled-command-requeued.event.js';
