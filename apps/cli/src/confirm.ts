import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** Asks a yes/no question; true only for "y" or "yes". End of input or Ctrl-C counts as no. */
export function confirm(question: string, input: Readable, output: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: false });
    let answered = false;
    const finish = (yes: boolean) => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(yes);
    };
    rl.on('SIGINT', () => {
      output.write('\n');
      finish(false);
    });
    rl.on('close', () => finish(false));
    rl.question(`${question} [y/N] `, (answer) => finish(/^(y|yes)$/i.test(answer.trim())));
  });
}
