import type { ConversationStatus, CrmDeliveryListState, ListQuery } from '@cardfile/core'
import { CRM_DELIVERY } from '../crm/delivery-job'
import type { JobState } from '../jobs/job-store'
import type { ConversationIndexRow, IndexRow } from '../storage/index-store'

/**
 * What one committed change means to the lists clients keep live. It carries ids and the
 * fields lists are filtered by, never a contact's values: it crosses the bus between instances
 * and is matched against subscriptions there.
 */
export type ListChange =
  /** A conversation's index row changed (created, status, team, priority, contact). */
  | {
      readonly type: 'conversation'
      readonly workspace: string
      readonly id: string
      readonly contactId: string
      /** The queues it was in before and is in now (null: the unassigned queue). */
      readonly teams: readonly (string | null)[]
      /** Its status before and now (one entry when unchanged or new). */
      readonly statuses: readonly ConversationStatus[]
      /** Its index row now: sent with the invalidation of lists that show conversation rows. */
      readonly row: ConversationIndexRow
    }
  /** A contact's index row changed. */
  | {
      readonly type: 'contact'
      readonly workspace: string
      readonly id: string
      /** Its VIP flag before and after (one entry when unchanged or new). */
      readonly vip: readonly boolean[]
    }
  /** The workspace's schema committed a change (VIP on or off, the matching attribute). */
  | { readonly type: 'schema'; readonly workspace: string }
  /** Contacts were linked or unlinked by hand. */
  | { readonly type: 'links'; readonly workspace: string; readonly contactIds: readonly string[] }
  /** A contact and its conversations were erased. */
  | { readonly type: 'erased'; readonly workspace: string; readonly contactId: string }
  /** The workspace's CRM connection was configured, switched on or off. */
  | { readonly type: 'crm'; readonly workspace: string }
  /** A background job was queued, or changed state or progress. */
  | {
      readonly type: 'job'
      readonly workspace: string
      readonly jobId: string
      readonly kind: string
      /** Its state after the change, when known (a worker that lost the job does not know). */
      readonly state?: JobState
      /** Its state before, when the change took it out of one that lists show (a retry). */
      readonly from?: JobState
    }

/** The index row fields a list shows or filters by: `updatedAt` moves on every commit. */
const shown = (row: IndexRow): string => JSON.stringify({ ...row, updatedAt: 0 })

/**
 * The list change of a commit from the index row before it and after it (undefined: the
 * document has no complete row), or null when no list can have changed: a message appended
 * to a conversation leaves its row, and so every list, as it was.
 *
 * @example
 * listChangeOfRows(before, after) // { type: 'conversation', id: 'v1', teams: ['billing'], ... }
 */
export function listChangeOfRows(
  before: IndexRow | undefined,
  after: IndexRow | undefined,
): ListChange | null {
  if (after === undefined) return null
  if (before !== undefined && shown(before) === shown(after)) return null
  if (after.kind === 'conversation') {
    const previous = before?.kind === 'conversation' ? before : undefined
    const teams =
      previous === undefined || previous.team === after.team
        ? [after.team]
        : [previous.team, after.team]
    const statuses =
      previous === undefined || previous.status === after.status
        ? [after.status]
        : [previous.status, after.status]
    return {
      type: 'conversation',
      workspace: after.workspace,
      id: after.id,
      contactId: after.contactId,
      teams,
      statuses,
      row: after,
    }
  }
  const vip =
    before?.kind === 'contact' && before.vip !== after.vip ? [before.vip, after.vip] : [after.vip]
  return { type: 'contact', workspace: after.workspace, id: after.id, vip }
}

/**
 * Whether `change` may change what `query` returns. It errs on the side of yes where the
 * answer needs more than the change carries (a linked group's members are not known here, so
 * any contact, link or conversation change invalidates every group list of the workspace):
 * an invalidation costs the client one fetch, a missed one a stale list.
 *
 * @example
 * affectsList({ kind: 'queue', team: 'billing' }, change) // true when the row was or is in it
 */
export function affectsList(query: ListQuery, change: ListChange): boolean {
  switch (query.kind) {
    case 'queue':
      return (
        change.type === 'erased' ||
        (change.type === 'conversation' && change.teams.includes(query.team))
      )
    case 'conversations': {
      if (change.type === 'erased') {
        return query.contactId === undefined || change.contactId === query.contactId
      }
      // A contact marked or unmarked VIP, or VIP switched, moves its conversations in or out.
      if (query.group === 'vip' && (change.type === 'schema' || change.type === 'contact')) {
        return change.type === 'schema' || change.vip.length > 1
      }
      if (change.type !== 'conversation') return false
      const { contactId, team, status } = query
      return (
        (contactId === undefined || change.contactId === contactId) &&
        (team === undefined || change.teams.includes(team)) &&
        (status === undefined || change.statuses.some((s) => status.includes(s)))
      )
    }
    case 'contacts':
      return (
        change.type === 'erased' ||
        (change.type === 'contact' && (query.vip === undefined || change.vip.includes(query.vip)))
      )
    case 'vip':
      return (
        change.type === 'erased' ||
        change.type === 'schema' ||
        (change.type === 'contact' && change.vip.includes(true))
      )
    case 'linked':
    case 'links-log':
      return (
        change.type === 'links' ||
        change.type === 'contact' ||
        change.type === 'erased' ||
        change.type === 'schema'
      )
    case 'history':
      return (
        change.type === 'links' ||
        change.type === 'contact' ||
        change.type === 'conversation' ||
        change.type === 'erased' ||
        change.type === 'schema'
      )
    case 'deleted-contacts':
      return change.type === 'erased'
    case 'job':
    case 'export':
      return change.type === 'job' && change.jobId === query.jobId
    case 'jobs':
      return change.type === 'job' && change.kind === query.jobKind
    case 'crm-deliveries':
      // An erased contact's deliveries go with it.
      if (change.type === 'erased') return true
      if (change.type !== 'job' || change.kind !== CRM_DELIVERY) return false
      return (
        change.state === undefined || deliveryListMayChange(query.state, change.state, change.from)
      )
    case 'value-history':
      return (
        (change.type === 'contact' && change.id === query.contactId) ||
        (change.type === 'erased' && change.contactId === query.contactId)
      )
    case 'crm-status':
      return (
        (change.type === 'contact' && change.id === query.contactId) ||
        (change.type === 'job' && change.kind.startsWith('crm')) ||
        change.type === 'crm' ||
        change.type === 'schema'
      )
  }
}

/**
 * Whether a delivery job that went to `state` (from `from`, when said) may have entered or
 * left the list of deliveries in `listed` (undefined: all). Pending deliveries are queued or
 * running; a dead one leaves the dead letter only when an admin sends it again, which says so.
 */
function deliveryListMayChange(
  listed: CrmDeliveryListState | undefined,
  state: JobState,
  from: JobState | undefined,
): boolean {
  switch (listed) {
    case undefined:
    case 'pending':
      return true
    case 'delivered':
      return state === 'done'
    case 'dead':
      return state === 'failed' || from === 'failed'
  }
}

const CHANGE_TYPES: ReadonlySet<string> = new Set([
  'conversation',
  'contact',
  'schema',
  'links',
  'erased',
  'crm',
  'job',
])

/**
 * Reads a list change another instance published for `workspace` (JSON of a
 * {@link ListChange}), or null when it is not one.
 *
 * @example
 * parseListChange('demo', '{"type":"schema","workspace":"demo"}')
 */
export function parseListChange(workspace: string, json: string): ListChange | null {
  try {
    const value: unknown = JSON.parse(json)
    if (typeof value !== 'object' || value === null) return null
    const change = value as ListChange
    if (!CHANGE_TYPES.has(change.type) || change.workspace !== workspace) return null
    return change
  } catch {
    return null
  }
}
