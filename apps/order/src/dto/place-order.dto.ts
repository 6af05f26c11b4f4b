import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { MAX_DISCOUNT_CODE_LENGTH, MAX_ORDER_LINES } from '../order.constants';
import { OrderLineDto } from './order-line.dto';

/** Body of `POST /orders`. Prices come from the catalogue, never from the client. */
export class PlaceOrderDto {
  @ApiProperty({ example: 'user-42' })
  @IsString()
  @IsNotEmpty()
  userId!: string;

  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail()
  email!: string;

  @ApiProperty({ type: [OrderLineDto], minItems: 1, maxItems: MAX_ORDER_LINES })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ORDER_LINES)
  @ValidateNested({ each: true })
  @Type(() => OrderLineDto)
  items!: OrderLineDto[];

  @ApiPropertyOptional({
    example: 'SPRING10',
    maxLength: MAX_DISCOUNT_CODE_LENGTH,
    description: 'carried on OrderPlaced (v2) for reporting; prices are not changed by it',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_DISCOUNT_CODE_LENGTH)
  discountCode?: string;
}
