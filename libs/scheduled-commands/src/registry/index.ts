export * from './scheduled-command.decorator.js';
export * from './command-registry.js';
export * from './command-serializer.js';
