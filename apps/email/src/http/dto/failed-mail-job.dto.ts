import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FailedMailJob } from '../../mail/mail-queue.service';

/** A mail job that used up its attempts. */
export class FailedMailJobDto implements FailedMailJob {
  @ApiProperty({ example: 'mail.ORD-7701.confirmed' })
  id!: string;

  @ApiProperty({ example: 'order-confirmed' })
  template!: string;

  @ApiProperty({ example: 'ada@example.com' })
  to!: string;

  @ApiProperty({ example: 'ORD-7701' })
  orderId!: string;

  @ApiProperty({ example: 'connect ECONNREFUSED 10.0.0.5:587' })
  failedReason!: string;

  @ApiProperty({ example: 5 })
  attempts!: number;

  @ApiPropertyOptional({ example: '2025-01-31T10:15:16.000Z' })
  failedAt?: string;
}
