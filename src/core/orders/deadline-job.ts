import type { JsonValue } from '../jobs/ports.js';
import { ORDER_DEADLINE_JOB } from './model.js';
import type { OrdersService } from './service.js';

/**
 * `cas.order-deadline`, enqueued with each order for its deadline: fails the order if its proof was
 * still not seen (issuance queued or ordered) by then; an order that moved on is left alone, so a
 * run repeated after a crash changes nothing. Shaped as a job handler (name, parse, run) for the
 * worker's registry; orders are also failed when read past their deadline, whether or not it ran.
 */
export function orderDeadlineHandler(orders: OrdersService) {
  return {
    name: ORDER_DEADLINE_JOB,
    parse(payload: JsonValue): { orderId: string } {
      const orderId = (payload as { orderId?: unknown } | null)?.orderId;
      if (typeof orderId !== 'string' || !/^\d{1,15}$/.test(orderId)) throw new Error('not an order deadline payload');
      return { orderId };
    },
    async run(payload: { orderId: string }): Promise<void | { continueAt: Date }> {
      const later = await orders.failIfOverdueById(payload.orderId);
      return later ? { continueAt: later } : undefined;
    },
  };
}
