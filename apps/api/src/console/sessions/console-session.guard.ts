import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { OpsCallers } from '../../ops/auth/ops-callers';
import type { KeyedRequest } from '../../ops/auth/ops-callers';

/** Reading console routes (the live stream): a live console session or a known `x-api-key`, else 401. */
@Injectable()
export class ConsoleSessionGuard implements CanActivate {
  constructor(private readonly callers: OpsCallers) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<KeyedRequest>();
    if (!(await this.callers.resolve(request))) throw new UnauthorizedException('sign in to the console first');
    return true;
  }
}
