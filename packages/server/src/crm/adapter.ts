import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { DeliveryBody, LookupRequest } from './contract'
import type { CrmConfig } from './crm-storage'

/** Why a CRM call failed. */
export type CrmFailure =
  | 'timeout'
  | 'network'
  | 'status'
  | 'bad-json'
  | 'bad-response'
  | 'unknown-alias'
  | 'invalid-value'
  | 'not-configured'
  | 'forbidden-target'

/**
 * A failed CRM call: `retryable` says whether the outbox tries again (timeouts, network errors,
 * 408/425/429/5xx) or sends the delivery to the dead letter at once (a refused private target,
 * `forbidden-target`, among them).
 */
export class CrmCallError extends CardfileError {
  constructor(
    readonly failure: CrmFailure,
    message: string,
    readonly retryable: boolean,
    /** The CRM's HTTP status, when it answered. */
    readonly status?: number,
    /** How long the CRM asked to wait (Retry-After), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(
      failure === 'timeout'
        ? ErrorCodes.Timeout
        : failure === 'forbidden-target'
          ? ErrorCodes.ForbiddenTarget
          : ErrorCodes.BadRequest,
      message,
    )
  }
}

/** What every call knows: the workspace's connection and a per-call idempotency key. */
export interface CrmCall {
  readonly config: CrmConfig
  readonly idempotencyKey: string
  readonly timeoutMs: number
}

/**
 * How Cardfile talks to a CRM. The HTTP adapter (signed JSON POSTs to the configured URLs) is
 * the default; an app can pass its own, for example around a vendor SDK.
 *
 * @example
 * const adapter: CrmAdapter = {
 *   requiresUrls: false,
 *   async lookup(call, request) { return vendor.find(request.lookup) },
 *   async deliver(call, body) { await vendor.update(body.contact.id, body) },
 * }
 * await createCardfileServer({ storage, auth, crm: { adapter } })
 */
export interface CrmAdapter {
  /** True when calls need the configured URLs (the HTTP adapter); deliveries wait for them. */
  readonly requiresUrls: boolean
  /**
   * Looks a contact up. Resolves the CRM's answer as parsed JSON (Cardfile validates it) or
   * throws a {@link CrmCallError}.
   */
  lookup(call: CrmCall, request: LookupRequest): Promise<unknown>
  /** Delivers a write-back or notification; resolves once the CRM accepted it. */
  deliver(call: CrmCall, body: DeliveryBody, raw: string): Promise<void>
}
