import { Module } from '@nestjs/common';
import { ProcessPaymentHandler } from './process-payment.handler.js';

/** Payments. */
@Module({ providers: [ProcessPaymentHandler] })
export class BillingModule {}
