import { Module } from '@nestjs/common';
import { CallExternalApiHandler } from './call-external-api.handler.js';
import { ExternalApiService } from './external-api.service.js';

/** Calls to a partner API (a fake one that starts down). */
@Module({ providers: [ExternalApiService, CallExternalApiHandler], exports: [ExternalApiService] })
export class IntegrationsModule {}
