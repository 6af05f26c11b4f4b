import { EVENT_CONTRACT_METADATA } from '../event-bus.constants';
import { contractRegistry } from '../contracts/contract-registry';
import type { EventClass, EventContractOptions } from '../interfaces/event-contract.interface';

/**
 * Declares a class as an event contract: its type, version and stream. Payload fields carry
 * class-validator decorators. A type may have several versions, one class each; consumers upcast
 * older ones to the newest (see `@Upcaster`), and versions of a type may only add optional fields.
 *
 * @example
 * @EventContract({ type: 'OrderPlaced', stream: 'orders' })
 * export class OrderPlaced { @IsString() orderId!: string; }
 */
export function EventContract(options: EventContractOptions): ClassDecorator {
  return (target) => {
    const meta = {
      type: options.type,
      version: options.version ?? 1,
      stream: options.stream,
      subjectField: options.subjectField,
      producedBy: [...(options.producedBy ?? [])],
    };
    Reflect.defineMetadata(EVENT_CONTRACT_METADATA, meta, target);
    contractRegistry.register(target as unknown as EventClass, meta);
  };
}
