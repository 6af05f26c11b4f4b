import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsNumber, IsString, Min } from 'class-validator';

/** One line of an order, fat: name and price travel with the event. */
export class OrderItem {
  @ApiProperty({ example: 'SKU-MUG' })
  @IsString()
  @IsNotEmpty()
  sku!: string;

  @ApiProperty({ example: 'Enamel mug' })
  @IsString()
  name!: string;

  @ApiProperty({ example: 12.5, description: 'unit price in the order currency' })
  @IsNumber()
  @Min(0)
  unitPrice!: number;

  @ApiProperty({ example: 2 })
  @IsInt()
  @Min(1)
  quantity!: number;
}
