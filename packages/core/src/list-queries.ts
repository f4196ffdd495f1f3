import { isValidId } from './document-layout'
import type { ConversationStatus, Role } from './types'

/*
 * The list queries a client can subscribe to over its websocket (see PROTOCOL.md, *Live
 * lists*), once for both ends: what each one is, which roles may read it (the same as the HTTP
 * route that answers it), and its canonical key (one cache entry and one subscription per key).
 */

/**
 * A list a client may keep live. Every query is scoped to the workspace of the connection's
 * token; each names the HTTP route that answers it (see {@link listQueryPath}).
 *
 * @example
 * const queue: ListQuery = { kind: 'queue', team: 'billing' }
 * const history: ListQuery = { kind: 'history', contactId: 'c1' }
 */
export type ListQuery =
  /** A team's queue (open conversations by priority); `team` null: the unassigned queue. */
  | { readonly kind: 'queue'; readonly team: string | null }
  /**
   * Conversations filtered by contact, team (null: routed to no team), status and contact group
   * (`vip`: only VIP contacts' conversations, none while VIP is off); newest first for a
   * contact, by priority otherwise (`order` overrides). Fields left out do not filter.
   */
  | {
      readonly kind: 'conversations'
      readonly contactId?: string
      readonly team?: string | null
      readonly status?: readonly ConversationStatus[]
      readonly order?: 'priority' | 'newest'
      readonly group?: 'vip'
    }
  /** Contacts, optionally only VIPs (or only non-VIPs). */
  | { readonly kind: 'contacts'; readonly vip?: boolean }
  /** The VIP group (empty while VIP is off). */
  | { readonly kind: 'vip' }
  /** The contacts linked to one contact, with the records that shaped the group. */
  | { readonly kind: 'linked'; readonly contactId: string }
  /** Every conversation of a contact's linked group (cross-channel history). */
  | { readonly kind: 'history'; readonly contactId: string }
  /** Who linked and unlinked a contact. */
  | { readonly kind: 'links-log'; readonly contactId: string }
  /** The deleted-contacts log (admins). */
  | { readonly kind: 'deleted-contacts' }
  /**
   * One background job's progress (a re-link, an import; any job kind `GET /jobs/<id>` shows,
   * to the roles that may read that kind).
   */
  | { readonly kind: 'job'; readonly jobId: string }
  /**
   * The newest jobs of one kind (`relink`, say), newest first: changes with every step of any
   * of them, and when one is queued or cancelled.
   */
  | { readonly kind: 'jobs'; readonly jobKind: string }
  /** One export's progress (admins). */
  | { readonly kind: 'export'; readonly jobId: string }
  /** A contact's CRM status (last lookup, pending write-backs, connection state). */
  | { readonly kind: 'crm-status'; readonly contactId: string }
  /**
   * The workspace's CRM deliveries in one state (all of them when left out), newest first
   * (admins): changes when a delivery fails, is sent again or is accepted.
   */
  | { readonly kind: 'crm-deliveries'; readonly state?: CrmDeliveryListState }
  /** Every change of one value of a contact (an attribute id, or `vip`), newest first. */
  | { readonly kind: 'value-history'; readonly contactId: string; readonly attributeId: string }

/** Where a CRM delivery stands: queued or retrying, accepted by the CRM, or given up on. */
export type CrmDeliveryListState = 'pending' | 'delivered' | 'dead'

/** The kinds of list query there are. */
export type ListQueryKind = ListQuery['kind']

/** Which roles may read each list: the roles its HTTP route admits. */
export const LIST_QUERY_ROLES: { readonly [K in ListQueryKind]: readonly Role[] } = {
  queue: ['admin', 'agent'],
  conversations: ['admin', 'agent'],
  contacts: ['admin', 'agent'],
  vip: ['admin', 'agent'],
  linked: ['admin', 'agent'],
  history: ['admin', 'agent'],
  'links-log': ['admin', 'agent'],
  'deleted-contacts': ['admin'],
  job: ['admin', 'agent'],
  jobs: ['admin', 'agent'],
  export: ['admin'],
  'crm-status': ['admin', 'agent'],
  'crm-deliveries': ['admin'],
  'value-history': ['admin', 'agent'],
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const idOrNull = (value: unknown): string | null =>
  typeof value === 'string' && isValidId(value) ? value : null

/** Longest team name a queue query may carry (team names are free text). */
const MAX_TEAM_LENGTH = 64

/** Job kinds are short names (`relink`, `contact-import`). */
const JOB_KIND = /^[a-z][a-z0-9-]{0,63}$/

const DELIVERY_STATES: readonly CrmDeliveryListState[] = ['pending', 'delivered', 'dead']

const STATUSES: readonly ConversationStatus[] = ['new', 'pending', 'resolved']

/**
 * Reads a list query from untrusted JSON: null when it is not one (unknown kind, missing or
 * malformed id, extra nonsense is ignored).
 *
 * @example
 * parseListQuery({ kind: 'linked', contactId: 'c1' }) // { kind: 'linked', contactId: 'c1' }
 * parseListQuery({ kind: 'linked' }) // null
 */
export function parseListQuery(value: unknown): ListQuery | null {
  if (!isRecord(value)) return null
  switch (value.kind) {
    case 'queue': {
      const team = value.team
      if (team === null || team === undefined) return { kind: 'queue', team: null }
      if (typeof team !== 'string' || team.length > MAX_TEAM_LENGTH) return null
      return { kind: 'queue', team: team === '' ? null : team }
    }
    case 'contacts': {
      const vip = value.vip
      if (vip === undefined || vip === null) return { kind: 'contacts' }
      return typeof vip === 'boolean' ? { kind: 'contacts', vip } : null
    }
    case 'vip':
      return { kind: 'vip' }
    case 'deleted-contacts':
      return { kind: 'deleted-contacts' }
    case 'job':
    case 'export': {
      const jobId = idOrNull(value.jobId)
      return jobId === null ? null : { kind: value.kind, jobId }
    }
    case 'jobs':
      return typeof value.jobKind === 'string' && JOB_KIND.test(value.jobKind)
        ? { kind: 'jobs', jobKind: value.jobKind }
        : null
    case 'crm-deliveries': {
      const state = value.state
      if (state === undefined || state === null) return { kind: 'crm-deliveries' }
      return DELIVERY_STATES.includes(state as CrmDeliveryListState)
        ? { kind: 'crm-deliveries', state: state as CrmDeliveryListState }
        : null
    }
    case 'conversations':
      return parseConversationsQuery(value)
    case 'value-history': {
      const contactId = idOrNull(value.contactId)
      const attributeId = idOrNull(value.attributeId)
      return contactId === null || attributeId === null
        ? null
        : { kind: 'value-history', contactId, attributeId }
    }
    case 'linked':
    case 'history':
    case 'links-log':
    case 'crm-status': {
      const contactId = idOrNull(value.contactId)
      return contactId === null ? null : { kind: value.kind, contactId }
    }
    default:
      return null
  }
}

function parseConversationsQuery(value: Record<string, unknown>): ListQuery | null {
  const query: {
    kind: 'conversations'
    contactId?: string
    team?: string | null
    status?: ConversationStatus[]
    order?: 'priority' | 'newest'
    group?: 'vip'
  } = { kind: 'conversations' }
  if (value.contactId !== undefined) {
    const contactId = idOrNull(value.contactId)
    if (contactId === null) return null
    query.contactId = contactId
  }
  if (value.team === null) query.team = null
  else if (value.team !== undefined) {
    if (typeof value.team !== 'string' || value.team.length > MAX_TEAM_LENGTH) return null
    if (value.team !== '') query.team = value.team
  }
  if (value.status !== undefined) {
    if (!Array.isArray(value.status) || value.status.length === 0) return null
    const wanted = value.status as unknown[]
    if (!wanted.every((s) => STATUSES.includes(s as ConversationStatus))) return null
    // Canonical: in the catalogue's order, once each.
    query.status = STATUSES.filter((s) => wanted.includes(s))
  }
  if (value.order !== undefined) {
    if (value.order !== 'priority' && value.order !== 'newest') return null
    query.order = value.order
  }
  if (value.group !== undefined) {
    if (value.group !== 'vip') return null
    query.group = value.group
  }
  return query
}

/**
 * The canonical key of a query: equal queries have equal keys, whatever the order of their
 * fields. Caches and subscriptions are kept per key.
 *
 * @example
 * listQueryKey({ kind: 'queue', team: 'billing' }) // 'queue:"billing"'
 */
export function listQueryKey(query: ListQuery): string {
  switch (query.kind) {
    case 'queue':
      return `queue:${JSON.stringify(query.team)}`
    case 'contacts':
      return `contacts:${query.vip === undefined ? '' : String(query.vip)}`
    case 'vip':
    case 'deleted-contacts':
      return query.kind
    case 'conversations':
      return `conversations:${JSON.stringify([
        query.contactId ?? '',
        query.team === undefined ? '' : query.team,
        query.status === undefined ? '' : STATUSES.filter((s) => query.status?.includes(s)),
        query.order ?? '',
        query.group ?? '',
      ])}`
    case 'job':
    case 'export':
      return `${query.kind}:${query.jobId}`
    case 'jobs':
      return `jobs:${query.jobKind}`
    case 'crm-deliveries':
      return `crm-deliveries:${query.state ?? ''}`
    case 'linked':
    case 'history':
    case 'links-log':
    case 'crm-status':
      return `${query.kind}:${query.contactId}`
    case 'value-history':
      return `${query.kind}:${query.contactId}:${query.attributeId}`
  }
}

/**
 * Whether `role` may read `query` (the role check of the route that answers it).
 *
 * @example
 * mayReadList('agent', { kind: 'deleted-contacts' }) // false
 */
export function mayReadList(role: Role, query: ListQuery): boolean {
  return LIST_QUERY_ROLES[query.kind].includes(role)
}

/**
 * The contact a query is about, if any: its subscription ends when that contact is deleted.
 *
 * @example
 * listQueryContact({ kind: 'history', contactId: 'c1' }) // 'c1'
 */
export function listQueryContact(query: ListQuery): string | null {
  return 'contactId' in query ? (query.contactId ?? null) : null
}

/**
 * The HTTP route (relative to `/api/<workspace>`, without paging parameters) that answers a
 * query.
 *
 * @example
 * listQueryPath({ kind: 'queue', team: 'billing' }) // '/queue?team=billing'
 */
export function listQueryPath(query: ListQuery): string {
  const enc = encodeURIComponent
  switch (query.kind) {
    case 'queue':
      return query.team === null ? '/queue' : `/queue?team=${enc(query.team)}`
    case 'conversations': {
      const params = new URLSearchParams()
      if (query.contactId !== undefined) params.set('contactId', query.contactId)
      if (query.team === null) params.set('unassigned', 'true')
      else if (query.team !== undefined) params.set('team', query.team)
      if (query.status !== undefined) params.set('status', query.status.join(','))
      if (query.order !== undefined) params.set('order', query.order)
      if (query.group !== undefined) params.set('group', query.group)
      const search = params.toString()
      return search === '' ? '/conversations' : `/conversations?${search}`
    }
    case 'contacts':
      return query.vip === undefined ? '/contacts' : `/contacts?vip=${String(query.vip)}`
    case 'vip':
      return '/groups/vip'
    case 'linked':
      return `/contacts/${enc(query.contactId)}/linked`
    case 'history':
      return `/contacts/${enc(query.contactId)}/history`
    case 'links-log':
      return `/contacts/${enc(query.contactId)}/links/log`
    case 'deleted-contacts':
      return '/deleted-contacts'
    case 'job':
      return `/jobs/${enc(query.jobId)}`
    case 'export':
      return `/exports/${enc(query.jobId)}`
    case 'jobs':
      return `/jobs?kind=${enc(query.jobKind)}`
    case 'crm-deliveries':
      return query.state === undefined ? '/crm/deliveries' : `/crm/deliveries?state=${query.state}`
    case 'crm-status':
      return `/contacts/${enc(query.contactId)}/crm`
    case 'value-history':
      return `/contacts/${enc(query.contactId)}/history/values?attribute=${enc(query.attributeId)}`
  }
}
