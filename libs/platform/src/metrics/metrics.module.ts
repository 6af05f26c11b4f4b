import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';

/** `/metrics` (Prometheus) in every platform process: the event bus's counters, histograms and Redis gauges, and process metrics. */
@Module({ controllers: [MetricsController] })
export class MetricsModule {}
