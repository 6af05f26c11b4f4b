/** The order service as other apps compose it: its module, and the shape of its order ids. */
export { OrderModule } from './order.module';
export { isOrderId, newOrderId } from './orders/order-id';
