import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { API_KEY_HEADER } from '@app/platform';
import { sessionIdOf } from '../../console/sessions/session-cookie';
import { crossSiteProblem } from '../../console/sessions/same-origin';
import { OpsApiKeys, OpsRole } from './ops-api-keys';
import { apiKeyOf, OpsCallers } from './ops-callers';
import type { KeyedRequest } from './ops-callers';

/** The role a request needs: reading (GET, HEAD) is a reader's, anything else an operator's. */
export function roleNeeded(method: string): OpsRole {
  return method === 'GET' || method === 'HEAD' ? 'reader' : 'operator';
}

/**
 * Reader keys may read (GET), operator keys may do everything: 401 without a known key or a live
 * console session, 403 for a reader on anything that changes state, and 403 for a change made
 * with a session cookie that lacks the CSRF header or a same-site Origin.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly callers: OpsCallers) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<KeyedRequest>();
    const caller = await this.callers.resolve(request);
    if (!caller) {
      if (apiKeyOf(request) !== undefined) throw new UnauthorizedException(`unknown API key (${API_KEY_HEADER})`);
      if (sessionIdOf(request)) throw new UnauthorizedException('the console session has ended: sign in again');
      throw new UnauthorizedException(`send an API key in the ${API_KEY_HEADER} header`);
    }
    const needed = roleNeeded(request.method);
    if (caller.via === 'session' && needed === 'operator') {
      const problem = crossSiteProblem(request);
      if (problem) throw new ForbiddenException(problem);
    }
    if (!OpsApiKeys.allows(caller.role, needed)) {
      throw new ForbiddenException(`${request.method} needs an operator key; this key has the ${caller.role} role`);
    }
    return true;
  }
}
