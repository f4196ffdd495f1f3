import * as decoding from 'lib0/decoding'
import {
  ErrorCodes,
  MessageTypes,
  encodeListInvalidate,
  encodeListState,
  listQueryContact,
  listQueryKey,
  mayReadList,
  readListSubscribe,
  readListUnsubscribe,
} from '@cardfile/core'
import type { ListQuery, ListStateNotice, Role } from '@cardfile/core'
import type { Connection } from '../sync/connection'
import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import { affectsList } from './list-change'
import type { ListChange } from './list-change'

/** Most list subscriptions one connection may hold (a screen shows a handful). */
export const MAX_LIST_SUBSCRIPTIONS = 64

/** How list changes reach every instance: the cluster's bus (absent: this is the only one). */
export interface ListChangeBus {
  /** Hands `change` to every instance, this one included, in the order of the calls. */
  publish(change: ListChange): Promise<void>
}

/** One connection's subscriptions, by the id its client chose. */
interface Subscriber {
  readonly conn: Connection
  readonly workspace: string
  readonly queries: Map<number, ListQuery>
  /** Subscriptions waiting for the workspace's plan to be checked. */
  readonly pending: Set<number>
}

/** Plan features some lists need, as their HTTP routes require them. */
export type ListFeature = 'crm' | 'exports'

const FEATURE_OF: Partial<Record<ListQuery['kind'], ListFeature>> = {
  'crm-status': 'crm',
  'crm-deliveries': 'crm',
  export: 'exports',
}

/** The list queries about background jobs, which the jobs' own readers may follow. */
export type JobListQuery = Extract<ListQuery, { kind: 'job' | 'jobs' }>

/** Why a subscription is refused: the code and message of its 108. */
export interface ListRefusal {
  readonly code: NonNullable<ListStateNotice['code']>
  readonly message: string
}

export interface ListHubOptions {
  readonly logger: Pick<ServerLogger, 'warn' | 'error'>
  /** Several instances: changes ride it and are delivered when it hands them back. */
  readonly bus?: ListChangeBus | undefined
  /**
   * Whether the workspace's plan has `feature` (the CRM, exports): lists whose route needs it
   * are refused (`plan-lacks-feature`) on a plan without it. Absent: not checked.
   */
  readonly planAllows?: (workspace: string, feature: ListFeature) => Promise<boolean>
  /**
   * Whether `role` may follow a job or a kind's jobs, as `GET /api/<ws>/jobs` would answer
   * (the job is of the workspace, its kind has a view the role may read): null when it may,
   * else why not. Absent: not checked.
   */
  readonly jobAccess?: (
    workspace: string,
    role: Role,
    query: JobListQuery,
  ) => Promise<ListRefusal | null>
}

/**
 * Keeps the list subscriptions of this instance's connections and tells each connection which
 * of its lists a committed change may have changed. A change is published once by the instance
 * that committed it (the document's owner, or whichever instance wrote a link, a job or an
 * erasure); with several instances it goes over the bus, so subscribers on every instance hear
 * it, each instance in the order it was published.
 *
 * Subscriptions live on the connection that made them (any Cardfile connection of the
 * workspace; the client uses its schema document's, which is open while it shows anything)
 * and end with it: a client subscribes again when it reconnects and refetches once the server
 * says the subscription is active.
 *
 * @example
 * const hub = new ListHub({ logger })
 * hub.receive(conn, message) // a 105 or 106 from a client
 * hub.changed({ type: 'links', workspace: 'demo', contactIds: ['c1', 'c2'] })
 */
export class ListHub {
  private readonly subscribers = new Map<Connection, Subscriber>()
  private readonly byWorkspace = new Map<string, Set<Subscriber>>()

  constructor(private readonly options: ListHubOptions) {}

  /** True for the message types this hub answers (105 and 106). */
  static handles(message: Uint8Array): boolean {
    return message[0] === MessageTypes.ListSubscribe || message[0] === MessageTypes.ListUnsubscribe
  }

  /**
   * Takes a subscription or unsubscription from `conn`. A malformed message throws (the server
   * closes the connection with 4400, as for any malformed message); a query the role may not
   * read, or one over the limit, is refused by id and the connection stays.
   */
  receive(conn: Connection, message: Uint8Array): void {
    const actor = conn.actor
    if (actor === null || !conn.extended)
      throw new Error('list messages need a Cardfile connection')
    const decoder = decoding.createDecoder(message)
    const type = decoding.readVarUint(decoder)
    if (type === MessageTypes.ListUnsubscribe) {
      const id = readListUnsubscribe(decoder)
      if (id === null) throw new Error('malformed list unsubscription')
      const subscriber = this.subscribers.get(conn)
      subscriber?.queries.delete(id)
      subscriber?.pending.delete(id)
      if (subscriber !== undefined && subscriber.queries.size === 0) this.drop(conn)
      return
    }
    const request = readListSubscribe(decoder)
    if (request === null) throw new Error('malformed list subscription')
    const refuse = (code: ListStateNotice['code'], text: string): void => {
      conn.send(encodeListState({ id: request.id, state: 'refused', code, message: text }))
    }
    const query = request.query
    if (query === null) {
      refuse(ErrorCodes.BadRequest, 'Not a list query')
      return
    }
    if (!mayReadList(actor.role, query)) {
      refuse(ErrorCodes.Forbidden, `Role ${actor.role} may not read ${listQueryKey(query)}`)
      return
    }
    let subscriber = this.subscribers.get(conn)
    if (subscriber === undefined) {
      subscriber = { conn, workspace: actor.workspace, queries: new Map(), pending: new Set() }
      this.subscribers.set(conn, subscriber)
      let set = this.byWorkspace.get(actor.workspace)
      if (set === undefined) this.byWorkspace.set(actor.workspace, (set = new Set()))
      set.add(subscriber)
    }
    const held = subscriber.queries.size + subscriber.pending.size
    if (!subscriber.queries.has(request.id) && held >= MAX_LIST_SUBSCRIPTIONS) {
      refuse(ErrorCodes.RateLimited, `At most ${MAX_LIST_SUBSCRIPTIONS} lists per connection`)
      return
    }
    const check = this.checkOf(actor.workspace, actor.role, query)
    if (check === null) {
      subscriber.queries.set(request.id, query)
      conn.send(encodeListState({ id: request.id, state: 'active' }))
      return
    }
    const waiting = subscriber
    waiting.pending.add(request.id)
    check.then(
      (refusal) => {
        // Unsubscribed or gone meanwhile: nothing to answer.
        if (!waiting.pending.delete(request.id) || conn.closed) return
        if (refusal !== null) {
          refuse(refusal.code, refusal.message)
          return
        }
        waiting.queries.set(request.id, query)
        conn.send(encodeListState({ id: request.id, state: 'active' }))
      },
      (error: unknown) => {
        if (!waiting.pending.delete(request.id) || conn.closed) return
        this.options.logger.warn('a list subscription could not be checked', errorContext(error))
        refuse(ErrorCodes.Unavailable, 'The workspace could not be read; subscribe again')
      },
    )
  }

  /**
   * What must be read before `query` may be followed (the plan, the job), or null when the
   * role check was all: resolves the refusal, or null to accept.
   */
  private checkOf(
    workspace: string,
    role: Role,
    query: ListQuery,
  ): Promise<ListRefusal | null> | null {
    const feature = FEATURE_OF[query.kind]
    const planAllows = this.options.planAllows
    const jobAccess = this.options.jobAccess
    const plan =
      feature === undefined || planAllows === undefined
        ? null
        : planAllows(workspace, feature).then((allowed): ListRefusal | null =>
            allowed
              ? null
              : { code: ErrorCodes.PlanLacksFeature, message: `The plan has no ${feature}` },
          )
    const job =
      (query.kind === 'job' || query.kind === 'jobs') && jobAccess !== undefined
        ? jobAccess(workspace, role, query)
        : null
    if (plan === null || job === null) return plan ?? job
    return Promise.all([plan, job]).then(([lacks, denied]) => lacks ?? denied)
  }

  /** Forgets every subscription of `conn` (it closed). */
  drop(conn: Connection): void {
    const subscriber = this.subscribers.get(conn)
    if (subscriber === undefined) return
    this.subscribers.delete(conn)
    const set = this.byWorkspace.get(subscriber.workspace)
    set?.delete(subscriber)
    if (set?.size === 0) this.byWorkspace.delete(subscriber.workspace)
  }

  /** Number of connections with subscriptions (for tests and diagnostics). */
  get size(): number {
    return this.subscribers.size
  }

  /**
   * A change was committed: publishes it to every instance (over the bus when there is one)
   * and delivers it to this instance's subscribers when it comes back.
   */
  changed(change: ListChange): void {
    const bus = this.options.bus
    if (bus === undefined) {
      this.deliver(change)
      return
    }
    bus
      .publish(change)
      .catch((error: unknown) =>
        this.options.logger.warn('a list change was not published', errorContext(error)),
      )
  }

  /**
   * Tells this instance's subscribers of `change`: one invalidation per connection naming its
   * affected subscriptions; subscriptions about an erased contact end (state `ended`, code
   * `deleted`) instead.
   */
  deliver(change: ListChange): void {
    const set = this.byWorkspace.get(change.workspace)
    if (set === undefined) return
    for (const subscriber of [...set]) {
      if (subscriber.conn.closed) {
        this.drop(subscriber.conn)
        continue
      }
      const ids: number[] = []
      let showsRows = false
      for (const [id, query] of subscriber.queries) {
        if (change.type === 'erased' && listQueryContact(query) === change.contactId) {
          subscriber.queries.delete(id)
          subscriber.conn.send(
            encodeListState({
              id,
              state: 'ended',
              code: ErrorCodes.Deleted,
              message: 'The contact was deleted',
            }),
          )
        } else if (affectsList(query, change)) {
          ids.push(id)
          if (query.kind === 'queue' || query.kind === 'conversations') showsRows = true
        }
      }
      if (ids.length === 0) continue
      // The conversation's new row goes with it to lists that show such rows (which the role
      // may read, or they would not be subscribed): the client shows it before its refetch.
      const row = showsRows && change.type === 'conversation' ? change.row : undefined
      subscriber.conn.send(encodeListInvalidate(row === undefined ? { ids } : { ids, row }))
    }
  }

  /**
   * Changes may have been lost (the bus reconnected): every subscription is invalidated, so
   * every client refetches what it shows.
   */
  invalidateAll(): void {
    for (const subscriber of this.subscribers.values()) {
      const ids = [...subscriber.queries.keys()]
      if (ids.length > 0) subscriber.conn.send(encodeListInvalidate({ ids }))
    }
  }
}
