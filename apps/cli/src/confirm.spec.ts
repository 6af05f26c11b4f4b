import { PassThrough } from 'node:stream';
import { confirm } from './confirm';

function ask(answer: string | null): Promise<{ yes: boolean; prompt: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let prompt = '';
  output.on('data', (d: Buffer) => (prompt += d.toString()));
  const result = confirm('Delete every dead letter of orders for good?', input, output);
  if (answer === null) input.end();
  else input.write(`${answer}\n`);
  return result.then((yes) => ({ yes, prompt }));
}

describe('confirm', () => {
  it.each([
    ['y', true],
    ['YES', true],
    [' yes ', true],
    ['', false],
    ['n', false],
    ['yep', false],
  ])('%p -> %p', async (answer, yes) => {
    const result = await ask(answer);
    expect(result.yes).toBe(yes);
    expect(result.prompt).toBe('Delete every dead letter of orders for good? [y/N] ');
  });

  it('end of input is a no', async () => {
    await expect(ask(null)).resolves.toMatchObject({ yes: false });
  });
});
