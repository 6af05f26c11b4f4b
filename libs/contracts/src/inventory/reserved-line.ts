import { IsInt, IsNotEmpty, IsString, Min } from 'class-validator';

export class ReservedLine {
  @IsString()
  @IsNotEmpty()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

/** A line that could not be reserved. */
export class ShortLine {
  @IsString()
  @IsNotEmpty()
  sku!: string;

  @IsInt()
  @Min(1)
  requested!: number;

  /** Stock left at the time; 0 for an unknown sku. */
  @IsInt()
  @Min(0)
  available!: number;
}
