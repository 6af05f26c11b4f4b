import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { ConcurrencyError } from '@nest-streams/event-store';
import {
  AccountAlreadyOpenedError,
  AccountNotFoundError,
  InsufficientFundsError,
  InvalidAmountError,
} from './domain/errors';

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

type LedgerError =
  AccountNotFoundError | InsufficientFundsError | AccountAlreadyOpenedError | InvalidAmountError | ConcurrencyError;

/** Domain and concurrency errors as HTTP answers: 404, 422 (overdraw), 409 (conflict), 400. */
@Catch(AccountNotFoundError, InsufficientFundsError, AccountAlreadyOpenedError, InvalidAmountError, ConcurrencyError)
export class LedgerErrorFilter implements ExceptionFilter<LedgerError> {
  catch(error: LedgerError, host: ArgumentsHost): void {
    const [statusCode, body] = answer(error);
    host
      .switchToHttp()
      .getResponse<JsonResponse>()
      .status(statusCode)
      .json({ statusCode, ...body, message: error.message });
  }
}

function answer(error: LedgerError): [number, Record<string, unknown>] {
  if (error instanceof InsufficientFundsError) {
    return [
      422,
      { error: 'Unprocessable Entity', accountId: error.accountId, balance: error.balance, requested: error.requested },
    ];
  }
  if (error instanceof ConcurrencyError) {
    return [409, { error: 'Conflict', expectedVersion: error.expectedVersion, actualVersion: error.actualVersion }];
  }
  if (error instanceof AccountAlreadyOpenedError) return [409, { error: 'Conflict' }];
  if (error instanceof InvalidAmountError) return [400, { error: 'Bad Request' }];
  return [404, { error: 'Not Found' }];
}
