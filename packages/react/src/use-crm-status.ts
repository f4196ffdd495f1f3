import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { CardfileError, apiJson, capabilities } from '@cardfile/core'
import { contactAccess } from './access'
import { useCardfileClient } from './context'
import { useLiveList } from './use-live-list'
import {
  connectionOfError,
  crmConnection,
  onCrmConnection,
  setCrmConnection,
} from './crm-connection'
import type { CrmConnection } from './crm-connection'
import { loadStateOf } from './load-state'
import type { LoadState } from './load-state'
import { useDocumentSelector } from './use-document-selector'
import { asCardfileError } from './as-cardfile-error'

/** What a look-up asked for by hand did (`POST /api/<ws>/contacts/<id>/lookup`). */
export interface CrmLookupOutcome {
  readonly contactId: string
  /** When it ran, in ms since epoch. */
  readonly at: number
  /**
   * `found`: the CRM knows the contact and its values were applied; `not-found`: it does not;
   * `refused`: its answer was malformed and nothing was applied; `failed`: it could not be
   * reached (timeout, error status).
   */
  readonly outcome: 'found' | 'not-found' | 'refused' | 'failed'
  /** Why it was refused or failed; null otherwise. */
  readonly reason: string | null
  /** Aliases of the attributes whose values were written to the contact. */
  readonly applied: readonly string[]
}

/** A contact's CRM status, as the server's CRM integration records it in the contact. */
export interface CrmStatus extends LoadState {
  /**
   * The CRM can be used: the workspace's plan has the integration and the server said its
   * connection is configured and on. False while no CRM is configured, while it is switched
   * off, and until the server has answered: hide the CRM panel then (a look-up could only be
   * refused).
   */
  readonly enabled: boolean
  /**
   * Whether the workspace's CRM connection is configured and on, as the server tells every
   * role with the contact's CRM status (read on mount, and confirmed by each look-up); `unknown`
   * until it has answered (or while it cannot be reached).
   */
  readonly connection: CrmConnection
  /** The last lookup found a CRM record (true), found none (false), or none ran yet (null). */
  readonly validated: boolean | null
  /** When the last lookup ran, in ms since epoch, or null. */
  readonly lastLookupAt: number | null
  /**
   * CRM-managed attributes (ids) an agent changed that wait for the next write-back, which
   * goes out when the conversation's status next changes.
   */
  readonly pendingWriteBacks: readonly string[]
}

/** What {@link useCrmStatus} returns: the status and a look-up by hand. */
export interface CrmStatusResult extends CrmStatus {
  /**
   * Looks the contact up in the CRM now; resolves what the look-up did, or rejects with the
   * `CardfileError` that refused it (`plan-lacks-feature` while the CRM is off, `not-found`
   * for an unknown contact), which also lands in `lookupResult`. The status above follows the
   * contact live.
   */
  lookup(): Promise<CrmLookupOutcome>
  /** A look-up by hand is in flight. */
  readonly lookingUp: boolean
  /** What the last look-up by hand through this hook gave, or null. */
  readonly lookupResult: CrmLookupOutcome | CardfileError | null
}

/** What `GET /api/<ws>/contacts/<id>/crm` says of the connection. */
interface CrmStatusAnswer {
  readonly connection?: { readonly configured?: unknown; readonly enabled?: unknown }
}

const isIdList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string')

/**
 * Whether a contact is validated by the CRM, when it was last looked up, and which of its
 * CRM-managed values wait to be written back; whether the workspace's CRM is on; and a
 * look-up by hand. Live: it follows the contact document.
 *
 * @example
 * function CrmBadge({ contactId }: { contactId: string }) {
 *   const { enabled, validated, lastLookupAt, pendingWriteBacks, lookup, lookingUp } =
 *     useCrmStatus(contactId)
 *   if (!enabled) return null
 *   return (
 *     <span title={lastLookupAt ? new Date(lastLookupAt).toLocaleString() : 'never looked up'}>
 *       {validated ? 'Validated' : 'Not validated'}
 *       {pendingWriteBacks.length > 0 && ` · ${pendingWriteBacks.length} to send`}
 *       <button disabled={lookingUp} onClick={() => void lookup()}>Look up in CRM</button>
 *     </span>
 *   )
 * }
 */
export function useCrmStatus(contactId: string): CrmStatusResult {
  const client = useCardfileClient()
  const status = useDocumentSelector(contactAccess(client.workspace, contactId), (handle) => {
    if (handle === null) {
      return {
        plan: false,
        validated: null,
        lastLookupAt: null,
        pendingWriteBacks: [],
        ...loadStateOf(null),
      }
    }
    const flags = handle.doc.getMap('flags')
    const validated = flags.get('crmValidated')
    const lookupAt = flags.get('crmLookupAt')
    const pending = flags.get('crmPending')
    return {
      plan: capabilities(handle.schemaHandle.schema.settings().plan).crm,
      validated: typeof validated === 'boolean' ? validated : null,
      lastLookupAt: typeof lookupAt === 'number' ? lookupAt : null,
      pendingWriteBacks: isIdList(pending) ? pending : [],
      ...loadStateOf(handle),
    }
  })

  const connection = useSyncExternalStore(
    useCallback((onChange: () => void) => onCrmConnection(client, onChange), [client]),
    () => crmConnection(client),
    () => 'unknown' as const,
  )
  // The connection is read from the contact's CRM status, a list the server pushes changes of
  // (an admin switching the CRM on or off): asked once the server has confirmed the contact, so
  // offline there is no one to ask, and a contact opened offline asks when it first syncs.
  const plan = status.plan
  const reachable = status.source === 'server'
  const crm = useLiveList<never, CrmStatusAnswer>(
    plan && reachable ? { kind: 'crm-status', contactId } : null,
  )
  const answered = crm.answer?.connection
  const refused = crm.error
  useEffect(() => {
    if (answered !== undefined) {
      setCrmConnection(
        client,
        answered.configured === true && answered.enabled === true ? 'on' : 'off',
      )
    } else if (refused !== null) {
      const state = connectionOfError(refused)
      if (state !== null) setCrmConnection(client, state)
    }
  }, [client, answered, refused])

  const [pending, setPending] = useState(0)
  const [lookupResult, setLookupResult] = useState<CrmLookupOutcome | CardfileError | null>(null)
  const mounted = useRef(true)
  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
    }
  }, [])
  // A result belongs to the contact it was asked for.
  useEffect(() => setLookupResult(null), [contactId])

  const lookup = useCallback(async (): Promise<CrmLookupOutcome> => {
    setPending((n) => n + 1)
    let result: CrmLookupOutcome | CardfileError
    try {
      const outcome = await apiJson<CrmLookupOutcome & { readonly workspace?: string }>(
        client,
        `/api/${encodeURIComponent(client.workspace)}/contacts/${encodeURIComponent(contactId)}/lookup`,
        { method: 'POST' },
      )
      result = {
        contactId: outcome.contactId,
        at: outcome.at,
        outcome: outcome.outcome,
        reason: outcome.reason,
        applied: outcome.applied,
      }
      setCrmConnection(client, 'on')
    } catch (error) {
      result = asCardfileError(error)
      const state = connectionOfError(error)
      if (state !== null) setCrmConnection(client, state)
    }
    if (mounted.current) {
      setLookupResult(result)
      setPending((n) => n - 1)
    }
    if (result instanceof CardfileError) throw result
    return result
  }, [client, contactId])

  const lookingUp = pending > 0
  return useMemo(() => {
    const { plan: _plan, ...rest } = status
    return {
      ...rest,
      enabled: plan && connection === 'on',
      connection,
      lookup,
      lookingUp,
      lookupResult,
    }
  }, [status, plan, connection, lookup, lookingUp, lookupResult])
}
