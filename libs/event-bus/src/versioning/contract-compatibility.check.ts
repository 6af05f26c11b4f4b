import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { IncompatibleContractsError } from '../errors/incompatible-contracts.error';
import { checkContractCompatibility, describeProblems } from './contract-compatibility';

/**
 * Refuses to start an application whose event contracts break compatibility between versions
 * (`npm run contracts:check` runs the same check in CI), and warns about versions that no
 * upcaster chain brings to the newest one.
 */
@Injectable()
export class ContractCompatibilityCheck implements OnModuleInit {
  private readonly logger = new Logger('EventBus');

  onModuleInit(): void {
    const report = checkContractCompatibility();
    if (!report.ok) throw new IncompatibleContractsError(describeProblems(report));
    for (const missing of report.missingUpcasters) this.logger.warn(missing.message);
  }
}
