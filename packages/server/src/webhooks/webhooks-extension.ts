import { DEFAULT_RETRY } from '../crm/delivery-job'
import type { RetryPolicy } from '../crm/delivery-job'
import type { Extension } from '../extensions/extension'
import { webhookConsumer } from './webhook-consumer'
import { WEBHOOK_DELIVERY, webhookDeliveryHandler, webhookLane } from './webhook-delivery'
import { webhookRoutes } from './webhook-routes'

/** Options of the webhooks extension. */
export interface WebhooksOptions {
  /** How failed deliveries are retried (default: the CRM's, 8 attempts from 1 s doubling). */
  readonly retry?: Partial<RetryPolicy>
  /** How long a receiver has to answer, in ms (default 10000). */
  readonly timeoutMs?: number
  /** Jitter source of the backoff (tests pin it). */
  readonly random?: () => number
  /**
   * Lets webhooks point at loopback, private, link-local and unique-local addresses
   * (default false: refused when registered and again when delivered, after resolving the
   * host). For development and tests with receivers on this machine; never with untrusted
   * admins. The server's `allowPrivateOutboundTargets` sets it.
   */
  readonly allowPrivateTargets?: boolean
}

/**
 * Signed webhooks as an extension: admins register them per workspace (routes under
 * `/api/<ws>/webhooks`); the `webhooks` consumer queues a delivery job per subscribed webhook
 * for each contact created, attributes changed, VIP changed, contact linked (unlinked, or a
 * manual link or unlink reverted) and contact deleted; the `webhook-delivery` job handler
 * sends them (see `webhookDeliveryHandler`); an erasure drops the contact's deliveries, whose
 * bodies hold its values.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [...cardfileExtensions(), webhooksExtension({ timeoutMs: 5000 })] })
 */
export function webhooksExtension(options: WebhooksOptions = {}): Extension {
  return {
    name: 'webhooks',
    start(context) {
      const { backend, host, logger } = context
      return {
        consumers: [
          webhookConsumer({
            host,
            store: backend.webhooks,
            enqueue: (job) => context.enqueue(job),
          }),
        ],
        jobs: [
          webhookDeliveryHandler({
            store: backend.webhooks,
            retry: { ...DEFAULT_RETRY, ...options.retry },
            timeoutMs: options.timeoutMs ?? 10_000,
            random: options.random ?? Math.random,
            logger,
            allowPrivateTargets: options.allowPrivateTargets ?? false,
          }),
        ],
        routes: webhookRoutes({ allowPrivateTargets: options.allowPrivateTargets ?? false }),
        onContactErased: async ({ workspace, contactId }) => {
          await backend.jobs.remove({
            workspace,
            kind: WEBHOOK_DELIVERY,
            lane: webhookLane(workspace, contactId),
          })
        },
      }
    },
  }
}
