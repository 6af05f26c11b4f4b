import { applyDecorators, Controller, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { API_KEY_SECURITY } from '@app/platform';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { OpsThrottlerGuard } from '../auth/ops-throttler.guard';
import { OpsErrorDto } from '../dto/ops-error.dto';
import { OpsExceptionFilter } from './ops-exception.filter';

/** A controller under `/ops`: rate limited, behind API keys, errors in the one JSON shape. */
export function OpsController(path: string, tag: string): ClassDecorator {
  return applyDecorators(
    Controller(`ops/${path}`.replace(/\/$/, '')),
    ApiTags(tag),
    ApiSecurity(API_KEY_SECURITY),
    UseGuards(OpsThrottlerGuard, ApiKeyGuard),
    UseFilters(OpsExceptionFilter),
    ApiUnauthorizedResponse({ type: OpsErrorDto, description: 'no x-api-key header, or an unknown key' }),
    ApiForbiddenResponse({ type: OpsErrorDto, description: 'a reader key on an operator action' }),
    ApiTooManyRequestsResponse({ type: OpsErrorDto, description: 'more than OPS_RATE_LIMIT requests per minute' }),
  );
}
