import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { RetentionPolicyDto } from '../streams/stream.dto';

export class SetRetentionDto {
  @ApiPropertyOptional({ example: 1_000_000, description: 'keep at most this many entries' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  maxLength?: number;

  @ApiPropertyOptional({ example: 604_800_000, description: 'keep nothing older than this many ms (at least 1000)' })
  @IsOptional()
  @IsInt()
  @Min(1000)
  @Max(Number.MAX_SAFE_INTEGER)
  maxAgeMs?: number;
}

export class RetentionDto {
  @ApiProperty({ example: 'orders' })
  stream!: string;

  @ApiProperty({
    type: RetentionPolicyDto,
    nullable: true,
    description: 'null: no policy, the stream is never trimmed',
  })
  policy!: RetentionPolicyDto | null;
}

export class TrimDto {
  @ApiPropertyOptional({ example: false, description: 'also delete entries some group has not acknowledged yet' })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

export class TrimResultDto {
  @ApiProperty({ example: 1200 })
  deleted!: number;

  @ApiProperty({
    example: 35,
    description: 'entries past the policy kept because a group has not acknowledged them (0 with force)',
  })
  keptBecauseUnacknowledged!: number;
}
