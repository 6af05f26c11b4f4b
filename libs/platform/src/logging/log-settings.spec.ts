import { logFormat, pinoLevel } from './log-settings';

describe('log settings', () => {
  it('maps every Nest level of LOG_LEVEL to the pino level of the same severity', () => {
    expect(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'].map(pinoLevel)).toEqual([
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
    ]);
  });

  it('logs at info when LOG_LEVEL is unset or unknown', () => {
    expect(pinoLevel(undefined)).toBe('info');
    expect(pinoLevel('loud')).toBe('info');
  });

  it('takes LOG_FORMAT when set, whatever NODE_ENV says', () => {
    expect(logFormat('json', 'development')).toBe('json');
    expect(logFormat('pretty', 'production')).toBe('pretty');
    expect(logFormat('pretty', undefined)).toBe('pretty');
  });

  it('is pretty in development and JSON otherwise when LOG_FORMAT is unset', () => {
    expect(logFormat(undefined, 'development')).toBe('pretty');
    expect(logFormat(undefined, 'production')).toBe('json');
    expect(logFormat(undefined, 'test')).toBe('json');
    expect(logFormat(undefined, undefined)).toBe('json');
  });
});
