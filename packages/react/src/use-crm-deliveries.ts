import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { CardfileError, ErrorCodes, apiJson, capabilities } from '@cardfile/core'
import { schemaAccess } from './access'
import { useCardfileClient } from './context'
import { useDocumentSelector } from './use-document-selector'

/** Where a CRM delivery stands: queued or retrying, accepted by the CRM, or given up on. */
export type CrmDeliveryState = 'pending' | 'delivered' | 'dead'

/** A write-back or notification to the CRM, as admins see it (without the values it carries). */
export interface CrmDeliveryInfo {
  /** Also its idempotency key: a retry sends the same key. */
  readonly id: string
  readonly contactId: string
  readonly kind: 'write-back' | 'notification'
  readonly state: CrmDeliveryState
  readonly attempts: number
  /** Why the last attempt failed (the CRM's status and answer, a timeout), or null. */
  readonly lastError: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

/** What became of a delivery sent again through {@link CrmDeliveriesResult.retry}. */
export interface CrmRetryInfo {
  readonly id: string
  /** `pending` until the CRM accepted it (`delivered`) or it was given up on again (`dead`). */
  readonly state: CrmDeliveryState
}

/** Options of {@link useCrmDeliveries}. */
export interface UseCrmDeliveriesOptions {
  /** Which deliveries to list (default `dead`: the failed ones an admin may send again). */
  readonly state?: CrmDeliveryState
  /** At most this many, newest first (1 to 500, default 50). */
  readonly limit?: number
  /** How often the list is read again, in ms (default 5000; 0 turns polling off). */
  readonly pollMs?: number
}

/** What {@link useCrmDeliveries} returns. */
export interface CrmDeliveriesResult {
  /** An admin on a plan with the CRM; for anyone else nothing is read. */
  readonly canManage: boolean
  readonly items: readonly CrmDeliveryInfo[]
  readonly loading: boolean
  readonly error: CardfileError | null
  /**
   * Sends a dead delivery again (same idempotency key); rejects with `not-found` when it is
   * not dead any more. Its fate shows in `retries`.
   */
  retry(id: string): Promise<void>
  /** Deliveries sent again through this hook and what became of them, latest first. */
  readonly retries: readonly CrmRetryInfo[]
  /** Reads the list again now. */
  refresh(): void
}

interface DeliveryAnswer {
  readonly items: readonly CrmDeliveryInfo[]
}

const asCardfileError = (error: unknown): CardfileError =>
  error instanceof CardfileError
    ? error
    : new CardfileError(ErrorCodes.Internal, error instanceof Error ? error.message : String(error))

// The server's answer also holds the body with the contact's values: an admin list has no use
// for them, so only these fields are kept.
const infoOf = (d: CrmDeliveryInfo): CrmDeliveryInfo => ({
  id: d.id,
  contactId: d.contactId,
  kind: d.kind,
  state: d.state,
  attempts: d.attempts,
  lastError: d.lastError,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
})

/**
 * The workspace's CRM deliveries for admins, by default the failed ones (dead letters), read
 * again every `pollMs`, with a retry that follows the delivery until the CRM accepted it or
 * it failed again.
 *
 * @example
 * function FailedDeliveries() {
 *   const { items, retry, retries } = useCrmDeliveries()
 *   return (
 *     <ul>
 *       {items.map((d) => (
 *         <li key={d.id}>
 *           {d.kind} for {d.contactId}: {d.lastError}
 *           <button onClick={() => void retry(d.id)}>Retry</button>
 *         </li>
 *       ))}
 *     </ul>
 *   )
 * }
 */
export function useCrmDeliveries(options: UseCrmDeliveriesOptions = {}): CrmDeliveriesResult {
  const client = useCardfileClient()
  const state = options.state ?? 'dead'
  const limit = options.limit ?? 50
  const pollMs = options.pollMs ?? 5000
  const canManage = useDocumentSelector(
    schemaAccess(client.workspace),
    (schema, c) =>
      c.actor()?.role === 'admin' &&
      schema !== null &&
      capabilities(schema.schema.settings().plan).crm,
  )
  const base = `/api/${encodeURIComponent(client.workspace)}/crm/deliveries`
  const [items, setItems] = useState<readonly CrmDeliveryInfo[]>([])
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState<CardfileError | null>(null)
  const [retries, setRetries] = useState<readonly CrmRetryInfo[]>([])
  const [tick, setTick] = useState(0)
  const retriesRef = useRef(retries)
  retriesRef.current = retries

  const list = useCallback(
    async (which: CrmDeliveryState, size: number) =>
      (
        await apiJson<DeliveryAnswer>(
          client,
          `${base}?state=${which}&limit=${encodeURIComponent(String(size))}`,
        )
      ).items.map(infoOf),
    [client, base],
  )

  const following = retries.some((r) => r.state === 'pending')
  useEffect(() => {
    if (!canManage) return
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | null = null
    const read = async (): Promise<void> => {
      setLoading(true)
      try {
        const shown = await list(state, limit)
        // A delivery sent again is pending until the CRM takes it or it is dead again.
        const waiting = retriesRef.current.filter((r) => r.state === 'pending')
        const [delivered, dead] =
          waiting.length === 0
            ? [[], []]
            : await Promise.all([
                state === 'delivered' ? shown : list('delivered', 500),
                state === 'dead' ? shown : list('dead', 500),
              ])
        if (stopped) return
        setItems(shown)
        setError(null)
        if (waiting.length > 0) {
          const ids = (found: readonly CrmDeliveryInfo[]) => new Set(found.map((d) => d.id))
          const ok = ids(delivered)
          const failed = ids(dead)
          setRetries((current) =>
            current.map((r) =>
              r.state !== 'pending'
                ? r
                : ok.has(r.id)
                  ? { id: r.id, state: 'delivered' }
                  : failed.has(r.id)
                    ? { id: r.id, state: 'dead' }
                    : r,
            ),
          )
        }
      } catch (e) {
        if (!stopped) setError(asCardfileError(e))
      } finally {
        if (!stopped) setLoading(false)
      }
      // While a retry is followed, read sooner: the admin waits for its outcome.
      const every = retriesRef.current.some((r) => r.state === 'pending')
        ? Math.min(pollMs || 1000, 1000)
        : pollMs
      if (!stopped && every > 0) timer = setTimeout(() => void read(), every)
    }
    void read()
    return () => {
      stopped = true
      if (timer !== null) clearTimeout(timer)
    }
  }, [canManage, list, state, limit, pollMs, tick, following])

  const retry = useCallback(
    async (id: string) => {
      try {
        await apiJson(client, `${base}/${encodeURIComponent(id)}/retry`, { method: 'POST' })
      } catch (e) {
        const failure = asCardfileError(e)
        setError(failure)
        throw failure
      }
      setRetries((current) => [{ id, state: 'pending' }, ...current.filter((r) => r.id !== id)])
      // It left the dead letter: show that at once instead of at the next read.
      if (state === 'dead') setItems((current) => current.filter((d) => d.id !== id))
      setTick((n) => n + 1)
    },
    [client, base, state],
  )

  const refresh = useCallback(() => setTick((n) => n + 1), [])

  return useMemo(
    () => ({ canManage, items, loading, error, retry, retries, refresh }),
    [canManage, items, loading, error, retry, retries, refresh],
  )
}
