import {
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseFilters,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { keyDigest, OpsApiKeys } from '../../ops/auth/ops-api-keys';
import type { KeyedRequest } from '../../ops/auth/ops-callers';
import { OpsExceptionFilter } from '../../ops/http/ops-exception.filter';
import { CONSOLE_SETTINGS, ConsoleSettings } from '../console-settings';
import { ConsoleSessions } from './console-sessions';
import { crossSiteProblem } from './same-origin';
import { clearedSessionCookie, sessionCookie, sessionIdOf } from './session-cookie';
import { SessionDto, SignInDto } from './sign-in.dto';

interface SessionRequest extends KeyedRequest {
  ip?: string;
  secure?: boolean;
}

interface SessionResponse {
  setHeader(name: string, value: string | string[]): void;
}

/**
 * `/console/api/session`: sign in with an API key (POST), who am I (GET), sign out (DELETE). The
 * key is checked once and never stored: the session keeps its sha256. POST and DELETE need the
 * CSRF header and a same-site Origin, as every cookie-authenticated change does.
 */
@ApiTags('console')
@Controller('console/api/session')
@UseFilters(OpsExceptionFilter)
export class SessionController {
  private readonly logger = new Logger('Console');

  constructor(
    private readonly keys: OpsApiKeys,
    private readonly sessions: ConsoleSessions,
    @Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings,
  ) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Sign in: exchanges an API key for a session cookie (HttpOnly, SameSite=Strict)' })
  @ApiOkResponse({ type: SessionDto })
  async signIn(
    @Body() body: SignInDto,
    @Req() request: SessionRequest,
    @Res({ passthrough: true }) response: SessionResponse,
  ): Promise<SessionDto> {
    noStore(response);
    this.assertSameSite(request);
    const address = request.ip ?? 'unknown';
    if (await this.sessions.signInBlocked(address))
      throw new HttpException('too many failed sign-ins: wait a minute', HttpStatus.TOO_MANY_REQUESTS);
    const role = this.keys.roleOf(body.apiKey);
    if (!role) {
      await this.sessions.failedSignIn(address);
      throw new UnauthorizedException('unknown API key');
    }
    // NOTE: a new id at every sign-in; a session the browser still had is ended, not reused.
    const previous = sessionIdOf(request);
    if (previous) await this.sessions.end(previous);
    const digest = keyDigest(body.apiKey);
    const { id, session } = await this.sessions.open(digest);
    // NOTE: the key's digest prefix tells keys apart in the log; neither the key nor the session id is logged.
    this.logger.log(`sign-in: ${role} key ${digest.slice(0, 8)} from ${address}`);
    response.setHeader('Set-Cookie', sessionCookie(id, this.settings.sessionMaxMs, this.secure(request)));
    return { signedIn: true, role, expiresAt: session.expiresAt, idleTimeoutMs: this.settings.sessionIdleMs };
  }

  /** NOTE: 200 `{ signedIn: false }` rather than 401: the page asks this on every load, and a 401 is a console error in browsers. */
  @Get()
  @ApiOperation({ summary: 'The session: its role and expiry, or signedIn false' })
  @ApiOkResponse({ type: SessionDto })
  async current(
    @Req() request: SessionRequest,
    @Res({ passthrough: true }) response: SessionResponse,
  ): Promise<SessionDto> {
    noStore(response);
    const id = sessionIdOf(request);
    const session = id ? await this.sessions.use(id) : undefined;
    const role = session && this.keys.roleOfDigest(session.keyDigest);
    if (!role) return { signedIn: false };
    return { signedIn: true, role, expiresAt: session.expiresAt, idleTimeoutMs: this.settings.sessionIdleMs };
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Sign out: ends the session on the server and clears the cookie' })
  @ApiNoContentResponse()
  async signOut(@Req() request: SessionRequest, @Res({ passthrough: true }) response: SessionResponse): Promise<void> {
    noStore(response);
    this.assertSameSite(request);
    const id = sessionIdOf(request);
    const session = id ? await this.sessions.peek(id) : undefined;
    if (id) await this.sessions.end(id);
    if (session) this.logger.log(`sign-out: key ${session.keyDigest.slice(0, 8)}`);
    response.setHeader('Set-Cookie', clearedSessionCookie(this.secure(request)));
  }

  private assertSameSite(request: SessionRequest): void {
    const problem = crossSiteProblem(request);
    if (problem) throw new ForbiddenException(problem);
  }

  private secure(request: SessionRequest): boolean {
    return this.settings.cookieSecure === 'auto' ? request.secure === true : this.settings.cookieSecure;
  }
}

function noStore(response: SessionResponse): void {
  response.setHeader('Cache-Control', 'no-store');
}
