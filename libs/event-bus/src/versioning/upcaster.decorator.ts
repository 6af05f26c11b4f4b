import { getContract } from '../contracts/contract-registry';
import type { EventClass, EventContractMetadata } from '../interfaces/event-contract.interface';
import { type EventUpcaster, upcasterRegistry } from './upcaster-registry';
import { UPCASTER_NOT_A_CONTRACT_PAIR } from './versioning.messages';

/**
 * Declares how to turn the payload of one version of an event type into a newer version.
 * Consumers upcast an older entry step by step (v1 -> v2 -> v3) before validating it against the
 * newest contract, so handlers only ever see the newest shape. One upcaster per starting version;
 * registered when the class is declared (keep it beside the contracts), instantiated once.
 *
 * @example
 * @Upcaster(OrderPlacedV1, OrderPlaced)
 * export class OrderPlacedV1ToV2 implements EventUpcaster<OrderPlacedV1, OrderPlaced> {
 *   upcast(v1: OrderPlacedV1): OrderPlaced { return { ...v1, discountCode: null }; }
 * }
 */
export function Upcaster<From extends object, To extends object>(from: EventClass<From>, to: EventClass<To>) {
  return (target: new () => EventUpcaster<From, To>): void => {
    const fail = (why: string): never => {
      throw new Error(UPCASTER_NOT_A_CONTRACT_PAIR(target.name, from?.name, to?.name, why));
    };
    const contractOf = (cls: EventClass): EventContractMetadata => {
      try {
        return getContract(cls);
      } catch (error) {
        return fail((error as Error).message);
      }
    };
    const [fromMeta, toMeta] = [contractOf(from), contractOf(to)];
    if (fromMeta.type !== toMeta.type)
      fail(`${from.name} is ${fromMeta.type} but ${to.name} is ${toMeta.type}: an upcaster stays within one type`);
    if (fromMeta.version >= toMeta.version)
      fail(`it must go from an older version to a newer one (v${fromMeta.version} -> v${toMeta.version})`);
    const instance = new target();
    upcasterRegistry.register({
      type: fromMeta.type,
      from: fromMeta.version,
      to: toMeta.version,
      name: target.name,
      upcast: (payload) => instance.upcast(payload as From),
    });
  };
}
