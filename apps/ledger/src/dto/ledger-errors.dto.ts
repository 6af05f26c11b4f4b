import { ApiProperty } from '@nestjs/swagger';

export class InsufficientFundsDto {
  @ApiProperty({ example: 422 })
  statusCode!: number;

  @ApiProperty({ example: 'Unprocessable Entity' })
  error!: string;

  @ApiProperty({
    example:
      'cannot withdraw 250.5 from account 9b2f6c1e-3f5a-4e0b-9d51-0c1f9a7e2b44: its balance is 200; withdraw at most 200 or deposit first',
  })
  message!: string;

  @ApiProperty({ example: '9b2f6c1e-3f5a-4e0b-9d51-0c1f9a7e2b44' })
  accountId!: string;

  @ApiProperty({ example: 200 })
  balance!: number;

  @ApiProperty({ example: 250.5 })
  requested!: number;
}

export class ConcurrencyConflictDto {
  @ApiProperty({ example: 409 })
  statusCode!: number;

  @ApiProperty({ example: 'Conflict' })
  error!: string;

  @ApiProperty({
    example:
      'stream Account-9b2f6c1e-3f5a-4e0b-9d51-0c1f9a7e2b44 is at version 4, not 3 as expected: another writer appended first; reload the state and retry the command',
  })
  message!: string;

  @ApiProperty({ example: 3 })
  expectedVersion!: number | string;

  @ApiProperty({ example: 4 })
  actualVersion!: number;
}

export class LedgerErrorDto {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Not Found' })
  error!: string;

  @ApiProperty({ example: 'account 9b2f6c1e-3f5a-4e0b-9d51-0c1f9a7e2b44 does not exist: open one with POST /accounts' })
  message!: string;
}
