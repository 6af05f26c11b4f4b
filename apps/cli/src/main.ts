import { CommandFactory } from 'nest-commander';
import { CliModule } from './cli.module';

/** commander's own errors (unknown command or option, missing argument) are usage errors; --help is not. */
function errorHandler(error: Error & { exitCode?: number }): void {
  exit(error.exitCode === 0 ? 0 : 1);
}

/** Anything a command did not handle itself. */
function serviceErrorHandler(error: Error): void {
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 2;
}

/** Exits once stdout and stderr are flushed (a piped stdout must not lose its last lines). */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// NOTE: `cli ... | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

CommandFactory.run(CliModule, { logger: false, errorHandler, serviceErrorHandler })
  .then(() => exit(Number(process.exitCode ?? 0)))
  .catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    exit(2);
  });
