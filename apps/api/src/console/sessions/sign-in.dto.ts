import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import type { OpsRole } from '../../ops/auth/ops-api-keys';

export class SignInDto {
  @ApiProperty({ description: 'an operations API key (API_KEYS)', example: 'reader-key-0123456789abcdef' })
  @IsString()
  @Length(1, 256)
  apiKey!: string;
}

export class SessionDto {
  @ApiProperty({ example: true, description: 'false: no live session (the other fields are then absent)' })
  signedIn!: boolean;

  @ApiPropertyOptional({ enum: ['reader', 'operator'] })
  role?: OpsRole;

  @ApiPropertyOptional({ description: 'when the session ends unless used before (ms since the epoch)' })
  expiresAt?: number;

  @ApiPropertyOptional({
    description: 'the idle timeout: each use moves expiresAt this far ahead (up to the absolute cap)',
  })
  idleTimeoutMs?: number;
}
