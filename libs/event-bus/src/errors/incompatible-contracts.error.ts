import { INCOMPATIBLE_CONTRACTS } from '../versioning/versioning.messages';

/** Two consecutive versions of an event type are not compatible (docs/contract.md section 5); thrown at bootstrap. */
export class IncompatibleContractsError extends Error {
  constructor(readonly problems: string[]) {
    super(INCOMPATIBLE_CONTRACTS(problems));
    this.name = 'IncompatibleContractsError';
  }
}
