import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsISO8601, IsInt, IsOptional, Min } from 'class-validator';

/** Time travel: the state as of a version or a time (not both). */
export class AsOfQuery {
  @ApiPropertyOptional({ example: 3, description: 'the state right after this version (1 = just opened)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  asOfVersion?: number;

  @ApiPropertyOptional({
    example: '2025-03-14T09:30:00.000Z',
    description: 'the state with every event recorded at or before this time',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  asOfTime?: string;
}
