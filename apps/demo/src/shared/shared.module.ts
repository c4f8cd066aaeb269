import { Global, Module } from '@nestjs/common';
import { DEMO_CONFIG, demoConfig } from '../demo.config.js';
import { ExecutionLog } from './execution-log.js';

/** What every feature module of the demo uses: its settings and the execution log. */
@Global()
@Module({
  providers: [ExecutionLog, { provide: DEMO_CONFIG, useFactory: () => demoConfig() }],
  exports: [ExecutionLog, DEMO_CONFIG],
})
export class SharedModule {}
