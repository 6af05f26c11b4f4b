import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { EventValidationError, GroupAdminError, GroupAdminProblem, PublishFailedError } from '@nest-streams/event-bus';
import { isRedisUnavailable, REDIS_RETRY_AFTER_SECONDS, redisUnavailableMessage } from '@app/platform';
import type { FieldDetail } from '@app/platform';

/** The status of each GroupAdminError: what does not exist is 404, what the group's state refuses 409. */
const GROUP_PROBLEM_STATUS: Record<GroupAdminProblem, number> = {
  'no-group': HttpStatus.NOT_FOUND,
  'no-consumer': HttpStatus.NOT_FOUND,
  'not-pending': HttpStatus.NOT_FOUND,
  'group-exists': HttpStatus.CONFLICT,
  'consumer-busy': HttpStatus.CONFLICT,
  trimmed: HttpStatus.CONFLICT,
};

/** The one error shape of `/ops`. */
export interface OpsError {
  statusCode: number;
  error: string;
  message: string;
  details?: FieldDetail[];
}

interface ReplyTo {
  setHeader(name: string, value: string): void;
  status(code: number): { json(body: unknown): void };
}

/**
 * Every error under `/ops` as `{ statusCode, error, message, details? }`: HTTP exceptions keep
 * their status, validation lists each field in `details`, Redis and library errors get the
 * status they mean (NOGROUP 404, BUSYGROUP 409, a bad id 400, Redis unreachable 503 with
 * `Retry-After`), anything else is a 500 whose
 * cause is logged, not sent.
 */
@Catch()
export class OpsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OpsApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const body = this.toError(exception);
    const response = host.switchToHttp().getResponse<ReplyTo>();
    if (body.statusCode === HttpStatus.SERVICE_UNAVAILABLE)
      response.setHeader('Retry-After', String(REDIS_RETRY_AFTER_SECONDS));
    response.status(body.statusCode).json(body);
  }

  toError(exception: unknown): OpsError {
    if (exception instanceof ThrottlerException) {
      return error(
        HttpStatus.TOO_MANY_REQUESTS,
        'too many requests: slow down (limit OPS_RATE_LIMIT per minute per key)',
      );
    }
    if (exception instanceof HttpException) return fromHttpException(exception);
    if (exception instanceof EventValidationError) {
      return error(
        HttpStatus.BAD_REQUEST,
        exception.message,
        exception.fields.map((f) => ({ field: f.field ? `data.${f.field}` : 'data', messages: f.messages })),
      );
    }
    if (exception instanceof PublishFailedError) return error(HttpStatus.SERVICE_UNAVAILABLE, exception.message);
    if (exception instanceof GroupAdminError) return error(GROUP_PROBLEM_STATUS[exception.problem], exception.message);
    if (isRedisUnavailable(exception)) return error(HttpStatus.SERVICE_UNAVAILABLE, redisUnavailableMessage(exception));
    const message = exception instanceof Error ? exception.message : String(exception);
    if (/^NOGROUP/.test(message)) return error(HttpStatus.NOT_FOUND, 'no such consumer group');
    if (/^BUSYGROUP/.test(message)) return error(HttpStatus.CONFLICT, 'the consumer group exists already');
    if (/Invalid stream ID|is not a stream id|neither a stream id|not an ISO 8601 time/i.test(message))
      return error(HttpStatus.BAD_REQUEST, message);
    this.logger.error(`unexpected error: ${exception instanceof Error ? (exception.stack ?? message) : message}`);
    return error(HttpStatus.INTERNAL_SERVER_ERROR, 'internal error (logged by the server)');
  }
}

function fromHttpException(exception: HttpException): OpsError {
  const status = exception.getStatus();
  const response = exception.getResponse();
  if (typeof response === 'string') return error(status, response);
  const r = response as { message?: unknown; error?: unknown; details?: FieldDetail[] };
  const message = Array.isArray(r.message)
    ? r.message.join('; ')
    : typeof r.message === 'string'
      ? r.message
      : exception.message;
  const body = error(status, message, r.details);
  if (typeof r.error === 'string' && r.error !== message) body.error = r.error;
  return body;
}

function error(statusCode: number, message: string, details?: FieldDetail[]): OpsError {
  const body: OpsError = { statusCode, error: reasonPhrase(statusCode), message };
  if (details && details.length > 0) body.details = details;
  return body;
}

const PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function reasonPhrase(status: number): string {
  return PHRASES[status] ?? (status >= 500 ? 'Server Error' : 'Error');
}
