import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { API_KEY_HEADER } from '@app/platform';
import { OpsApiKeys, OpsRole } from './ops-api-keys';

interface KeyedRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The key sent in `x-api-key` (the first one, if the header is repeated). */
export function apiKeyOf(request: KeyedRequest): string | undefined {
  const value = request.headers[API_KEY_HEADER];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reader keys may read (GET), operator keys may do everything: 401 without a known key, 403 for
 * a reader key on anything that changes state.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly keys: OpsApiKeys) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<KeyedRequest>();
    const key = apiKeyOf(request);
    if (!key) throw new UnauthorizedException(`send an API key in the ${API_KEY_HEADER} header`);
    const role = this.keys.roleOf(key);
    if (!role) throw new UnauthorizedException(`unknown API key (${API_KEY_HEADER})`);
    const needed: OpsRole = request.method === 'GET' || request.method === 'HEAD' ? 'reader' : 'operator';
    if (!OpsApiKeys.allows(role, needed)) {
      throw new ForbiddenException(`${request.method} needs an operator key; this key has the ${role} role`);
    }
    return true;
  }
}
