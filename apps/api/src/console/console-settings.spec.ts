import { join } from 'node:path';
import { readConsoleSettings } from './console-settings';

describe('readConsoleSettings', () => {
  it('has defaults: 30 min idle, 12 h at most, a sample every 2 s, the build in dist/console', () => {
    const settings = readConsoleSettings({});
    expect(settings).toMatchObject({
      sessionIdleMs: 30 * 60_000,
      sessionMaxMs: 12 * 3_600_000,
      sampleMs: 2000,
      signInFailuresPerMinute: 10,
      cookieSecure: 'auto',
    });
    expect(settings.assetsDir).toBe(join(__dirname, '..', '..', '..', '..', 'dist', 'console'));
  });

  it('reads each variable, caps the idle timeout by the absolute one, and lists every bad value', () => {
    expect(
      readConsoleSettings({
        CONSOLE_SESSION_IDLE_MS: '9000',
        CONSOLE_SESSION_MAX_MS: '5000',
        CONSOLE_COOKIE_SECURE: 'true',
      }),
    ).toMatchObject({ sessionIdleMs: 5000, sessionMaxMs: 5000, cookieSecure: true });
    expect(() => readConsoleSettings({ CONSOLE_SAMPLE_MS: '10', CONSOLE_COOKIE_SECURE: 'yes' })).toThrow(
      /CONSOLE_SAMPLE_MS must be an integer from 100 to 60000 \(got "10"\)\n.*CONSOLE_COOKIE_SECURE must be auto, true or false/,
    );
  });
});
