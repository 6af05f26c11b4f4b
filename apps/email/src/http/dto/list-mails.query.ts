import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional } from 'class-validator';
import { LimitQuery } from './limit.query';

/** `GET /emails` filters. */
export class ListMailsQuery extends LimitQuery {
  @ApiPropertyOptional({ example: 'ada@example.com', description: 'only mails to this address (case-insensitive)' })
  @IsOptional()
  @IsEmail({}, { message: 'to must be an email address' })
  to?: string;
}
