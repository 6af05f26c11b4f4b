import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class OpenAccountDto {
  @ApiProperty({ example: 'Ada Lovelace', description: "the account owner's name" })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  owner!: string;
}
