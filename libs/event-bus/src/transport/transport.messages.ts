export const BAD_PATTERN = (pattern: string, problem: string): string =>
  `pattern ${pattern} cannot be mapped to a stream: ${problem}. Use a name of letters, digits and . _ : - ` +
  `(at most 200), a { stream, type } object, or the transport's \`route\` option (the same on clients and servers)`;

export const STREAM_OF_CONTRACT = (pattern: string, type: string, stream: string, contractStream: string): string =>
  `pattern ${pattern} maps type ${type} to stream ${stream}, but the contract of ${type} says stream ${contractStream}: ` +
  `use the pattern { stream: '${contractStream}', type: '${type}' } (eventPattern(Contract) builds it)`;

export const NOT_LISTENING = (what: string): string =>
  `${what} is not listening yet: call unwrap() after listen() (once the microservice has started)`;
