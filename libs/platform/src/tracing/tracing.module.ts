import { Module } from '@nestjs/common';
import { TracingLifecycle } from './tracing.lifecycle';

/** Logs how tracing is set up and flushes spans on shutdown; `setupTracing()` does the setting up. */
@Module({ providers: [TracingLifecycle] })
export class TracingModule {}
