import { clearedSessionCookie, sessionCookie, sessionIdOf } from './session-cookie';

describe('session cookie', () => {
  it('finds the session id among other cookies, and nothing when it is absent or empty', () => {
    expect(sessionIdOf({ headers: { cookie: 'a=1; console_session=abc_-9; b=2' } })).toBe('abc_-9');
    expect(sessionIdOf({ headers: { cookie: 'console_sessionx=1; a=console_session' } })).toBeUndefined();
    expect(sessionIdOf({ headers: { cookie: 'console_session=' } })).toBeUndefined();
    expect(sessionIdOf({ headers: {} })).toBeUndefined();
  });

  it('is HttpOnly, SameSite=Strict and Path=/, Secure on request, and cleared with Max-Age=0', () => {
    expect(sessionCookie('id', 90_500, false)).toBe(
      'console_session=id; Path=/; HttpOnly; SameSite=Strict; Max-Age=90',
    );
    expect(sessionCookie('id', 1000, true)).toMatch(/; Secure$/);
    expect(clearedSessionCookie(false)).toBe('console_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });
});
