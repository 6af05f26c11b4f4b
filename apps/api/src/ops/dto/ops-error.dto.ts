import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldDetailDto {
  @ApiProperty({ example: 'target.group' })
  field!: string;

  @ApiProperty({ example: ['group must match /^[A-Za-z0-9._:-]{1,200}$/'] })
  messages!: string[];
}

/** Every error under /ops. */
export class OpsErrorDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({ example: 'count must not be greater than 1000' })
  message!: string;

  @ApiPropertyOptional({ type: [FieldDetailDto], description: 'one item per invalid field (validation errors)' })
  details?: FieldDetailDto[];
}
