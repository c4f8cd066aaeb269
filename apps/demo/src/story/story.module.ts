import { Module } from '@nestjs/common';
import { IntegrationsModule } from '../integrations/integrations.module.js';
import { DemoStoryService } from './demo-story.service.js';

/** The story acted out at start-up. */
@Module({ imports: [IntegrationsModule], providers: [DemoStoryService] })
export class StoryModule {}
