import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, IsPositive, Max, Min } from 'class-validator';

/** A deposit or a withdrawal. */
export class MoneyDto {
  @ApiProperty({ example: 500, description: 'a positive amount with at most 2 decimals' })
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @IsPositive()
  @Max(999_999_999_999.99)
  amount!: number;

  @ApiPropertyOptional({
    example: 3,
    description:
      'optimistic concurrency: the account version (GET /accounts/:id `version`) this request is based on. ' +
      'When the account has changed since, nothing is written and the answer is 409; without it the ledger retries on the newest state.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  expectedVersion?: number;
}
