import { crossSiteProblem } from './same-origin';

const request = (headers: Record<string, string>) => ({ headers: { host: 'ops.example:3000', ...headers } });

describe('crossSiteProblem', () => {
  it('accepts the console’s own write: the CSRF header and an Origin of the same host', () => {
    expect(crossSiteProblem(request({ 'x-console-csrf': '1', origin: 'http://ops.example:3000' }))).toBeUndefined();
    expect(crossSiteProblem(request({ 'x-console-csrf': '1', origin: 'https://ops.example:3000' }))).toBeUndefined();
  });

  it('refuses a write without the header, without an Origin, or from another host or port', () => {
    expect(crossSiteProblem(request({ origin: 'http://ops.example:3000' }))).toMatch(/x-console-csrf/);
    expect(crossSiteProblem(request({ 'x-console-csrf': '1' }))).toMatch(/Origin/);
    expect(crossSiteProblem(request({ 'x-console-csrf': '1', origin: 'null' }))).toMatch(/malformed Origin/);
    expect(crossSiteProblem(request({ 'x-console-csrf': '1', origin: 'http://evil.example' }))).toMatch(/another site/);
    expect(crossSiteProblem(request({ 'x-console-csrf': '1', origin: 'http://ops.example:4000' }))).toMatch(
      /another site/,
    );
  });
});
