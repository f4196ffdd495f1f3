import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type { CardfileError } from '@cardfile/core'
import { MAX_LIST_PAGE, apiJson } from '@cardfile/core'
import { useCardfileClient } from './context'
import { useAdminWithFeature } from './admin-feature'
import { useLiveList } from './use-live-list'
import { asCardfileError } from './as-cardfile-error'

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
  /** At most this many, newest first (1 to 200, default 50; more reads as 200). */
  readonly limit?: number
  /**
   * Kept for compatibility and ignored: the server pushes every change of the list (a
   * delivery that failed, was sent again or was accepted), whichever admin or worker made it.
   * While push is unavailable (a server older than live lists, a lost connection) the client
   * polls every `listPollMs` (an option of `createCardfileClient`, default two minutes).
   *
   * @deprecated The list is pushed; set `listPollMs` on the client for the fallback.
   */
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

/** A delivery sent again, and its `updatedAt` when it was: a dead one updated since failed again. */
interface Followed {
  readonly id: string
  readonly state: CrmDeliveryState
  readonly since: number
}

/** Deliveries followed after a retry wait in these lists for their fate (the CRM's pages). */
const FOLLOW_PAGE = MAX_LIST_PAGE

/**
 * The workspace's CRM deliveries for admins, by default the failed ones (dead letters), with a
 * retry that follows the delivery until the CRM accepted it or it failed again. The server
 * pushes every change of the list (a live `crm-deliveries` list of the client's list store):
 * a delivery that fails, or another admin's retry, shows without polling.
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
  const pageSize = Math.min(MAX_LIST_PAGE, Math.max(1, options.limit ?? 50))
  const canManage = useAdminWithFeature('crm')
  const base = `/api/${encodeURIComponent(client.workspace)}/crm/deliveries`
  const [followed, setFollowed] = useState<readonly Followed[]>([])
  const [retryError, setRetryError] = useState<CardfileError | null>(null)

  const shown = useLiveList<CrmDeliveryInfo>(canManage ? { kind: 'crm-deliveries', state } : null, {
    pageSize,
  })
  // While a retry is followed, its fate shows in the delivered or the dead list.
  const following = followed.some((r) => r.state === 'pending')
  const delivered = useLiveList<CrmDeliveryInfo>(
    canManage && following && state !== 'delivered'
      ? { kind: 'crm-deliveries', state: 'delivered' }
      : null,
    { pageSize: FOLLOW_PAGE },
  )
  const dead = useLiveList<CrmDeliveryInfo>(
    canManage && following && state !== 'dead' ? { kind: 'crm-deliveries', state: 'dead' } : null,
    { pageSize: FOLLOW_PAGE },
  )
  const deliveredItems = state === 'delivered' ? shown.items : delivered.items
  const deadItems = state === 'dead' ? shown.items : dead.items

  useEffect(() => {
    if (!following) return
    const ok = new Set(deliveredItems.map((d) => d.id))
    const failedAgain = new Map(deadItems.map((d) => [d.id, d.updatedAt]))
    const fateOf = (r: Followed): CrmDeliveryState => {
      if (r.state !== 'pending') return r.state
      if (ok.has(r.id)) return 'delivered'
      const at = failedAgain.get(r.id)
      return at !== undefined && at > r.since ? 'dead' : 'pending'
    }
    if (followed.every((r) => fateOf(r) === r.state)) return
    setFollowed((current) => current.map((r) => ({ ...r, state: fateOf(r) })))
  }, [following, followed, deliveredItems, deadItems])

  const itemsRef = useRef(shown.items)
  itemsRef.current = shown.items
  const { push, refresh: refreshShown } = shown
  const retry = useCallback(
    async (id: string) => {
      const since = itemsRef.current.find((d) => d.id === id)?.updatedAt ?? Date.now()
      try {
        await apiJson(client, `${base}/${encodeURIComponent(id)}/retry`, { method: 'POST' })
      } catch (e) {
        const failure = asCardfileError(e)
        setRetryError(failure)
        throw failure
      }
      setRetryError(null)
      setFollowed((current) => [
        { id, state: 'pending', since },
        ...current.filter((r) => r.id !== id),
      ])
      // Pushed lists hear of it from the server; a polled one is read again now.
      if (push !== 'active') refreshShown()
    },
    [client, base, push, refreshShown],
  )

  // A delivery sent again leaves the dead letter at once, until it is dead again (updated).
  const items = useMemo(() => {
    const hidden = new Map(
      followed.filter((r) => r.state === 'pending').map((r) => [r.id, r.since] as const),
    )
    return hidden.size === 0 || state !== 'dead'
      ? shown.items.map(infoOf)
      : shown.items.filter((d) => !(d.updatedAt <= (hidden.get(d.id) ?? -1))).map(infoOf)
  }, [shown.items, followed, state])

  const retries = useMemo(
    () => followed.map((r): CrmRetryInfo => ({ id: r.id, state: r.state })),
    [followed],
  )
  const { refresh: refreshDelivered } = delivered
  const { refresh: refreshDead } = dead
  const refresh = useCallback(() => {
    refreshShown()
    refreshDelivered()
    refreshDead()
  }, [refreshShown, refreshDelivered, refreshDead])

  const error = retryError ?? shown.error
  return useMemo(
    () => ({ canManage, items, loading: shown.loading, error, retry, retries, refresh }),
    [canManage, items, shown.loading, error, retry, retries, refresh],
  )
}
