import { ApiProperty } from '@nestjs/swagger';
import type { SentMail } from '../../mail/sent-mail';

/** A mail the service sent. */
export class SentMailDto implements SentMail {
  @ApiProperty({ example: 'mail.ORD-7701.confirmed', description: 'the mail id, which is its job id' })
  id!: string;

  @ApiProperty({ example: 'ada@example.com' })
  to!: string;

  @ApiProperty({ example: 'Your order ORD-7701 is confirmed' })
  subject!: string;

  @ApiProperty({ example: 'Hello,\n\nthank you for your order ORD-7701. ...\nTotal: 49.00 EUR' })
  text!: string;

  @ApiProperty({ example: 'order-confirmed', enum: ['order-confirmed', 'order-cancelled'] })
  template!: 'order-confirmed' | 'order-cancelled';

  @ApiProperty({ example: 'ORD-7701' })
  orderId!: string;

  @ApiProperty({ example: '2025-01-31T10:15:00.000Z' })
  sentAt!: string;

  @ApiProperty({ example: '<0b7c1c2e-3c55-4a43-9a0e-7f4a4c1f2b11@email-service.local>' })
  messageId!: string;

  @ApiProperty({ example: 1, description: 'the attempt that sent it (1 = first try)' })
  attempts!: number;

  @ApiProperty({ example: '01JHX3Q9W8B7T2J5N4V6C8D0EF', description: 'id of the event that asked for the mail' })
  eventId!: string;
}
