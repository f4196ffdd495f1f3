import type * as decoding from 'lib0/decoding'
import { CardfileError, ErrorCodes } from '../errors'
import type { ListQuery } from '../list-queries'
import {
  MessageTypes,
  encodeListSubscribe,
  encodeListUnsubscribe,
  readListInvalidation,
  readListState,
} from '../protocol'
import type { DocumentReplica, ListSink } from './document-replica'

/** Whether the server pushes a list's changes, and why not when it does not. */
export type ListPushState =
  /** Subscribed: every commit from now on that changes the list is announced. */
  | 'active'
  /** The connection dropped (or is not open yet): nothing is announced until it is back. */
  | 'lost'
  /**
   * The connection is open but its server does not push lists (its hello did not announce
   * them: a server older than live lists): the list is polled.
   */
  | 'unsupported'
  /** The server refused the subscription (its `error` says why). */
  | 'refused'
  /** The subscription ended for good: the contact it was about was deleted. */
  | 'ended'

/** What a list subscription hears. */
export interface ListSubscriptionHandlers {
  /**
   * A commit changed the list: fetch it again. `row` is the changed conversation's index row
   * when the server sent it (lists of conversations), else null.
   */
  invalidated(row: unknown): void
  /** Push became available or unavailable; `error` for `refused` and `ended`. */
  state(state: ListPushState, error: CardfileError | null): void
}

/** Where list subscriptions go: a Cardfile connection of the workspace. */
export interface ListChannel {
  /**
   * True while the connection is open and its server pushes lists (a subscription is answered
   * within a round trip).
   */
  open(): boolean
  /** Subscribes `query`; returns the function that ends the subscription. */
  subscribe(query: ListQuery, handlers: ListSubscriptionHandlers): () => void
}

interface Subscription {
  readonly query: ListQuery
  readonly handlers: ListSubscriptionHandlers
}

/**
 * List subscriptions over the workspace's schema document connection, which the channel holds
 * open while it has any: subscriptions are sent once the connection's hello announced live
 * lists (again after every reconnect, since the server forgets them with the connection; never
 * to a server whose hello did not, which would close the connection) and each hears its own
 * invalidations and state.
 *
 * @example
 * const channel = new ReplicaListChannel(() => acquireSchema(), (r) => releaseReplica(r))
 * const stop = channel.subscribe({ kind: 'vip' }, { invalidated: refetch, state: console.log })
 */
export class ReplicaListChannel implements ListChannel, ListSink {
  private readonly subscriptions = new Map<number, Subscription>()
  private nextId = 1
  private replica: DocumentReplica | null = null
  private isOpen = false
  /** The open connection's server does not push lists. */
  private pushless = false

  constructor(
    private readonly acquire: () => DocumentReplica,
    private readonly release: (replica: DocumentReplica) => void,
  ) {}

  open(): boolean {
    return this.isOpen
  }

  subscribe(query: ListQuery, handlers: ListSubscriptionHandlers): () => void {
    const id = this.nextId++
    this.subscriptions.set(id, { query, handlers })
    if (this.replica === null) {
      this.replica = this.acquire()
      // Hears `connected` at once when the socket is already open (and sends this one then).
      this.replica.setListSink(this)
    } else if (this.isOpen) {
      this.replica.sendMessage(encodeListSubscribe({ id, query }))
    } else if (this.pushless) {
      // Told after the caller has its unsubscribe function, as every other state is.
      queueMicrotask(() => {
        if (this.pushless && this.subscriptions.has(id)) handlers.state('unsupported', null)
      })
    }
    let ended = false
    return () => {
      if (ended) return
      ended = true
      // Refused or ended ones are already gone from the map (and from the server).
      const held = this.subscriptions.delete(id)
      const replica = this.replica
      if (replica === null) return
      if (held && this.isOpen) replica.sendMessage(encodeListUnsubscribe(id))
      if (this.subscriptions.size === 0) {
        replica.setListSink(null)
        this.replica = null
        this.isOpen = false
        this.pushless = false
        this.release(replica)
      }
    }
  }

  connected(): void {
    this.isOpen = true
    this.pushless = false
    for (const [id, { query }] of this.subscriptions) {
      this.replica?.sendMessage(encodeListSubscribe({ id, query }))
    }
  }

  unsupported(): void {
    // Subscriptions stay held: a reconnect to a newer server (an upgrade) subscribes them.
    this.isOpen = false
    this.pushless = true
    for (const { handlers } of [...this.subscriptions.values()]) {
      handlers.state('unsupported', null)
    }
  }

  disconnected(): void {
    this.isOpen = false
    this.pushless = false
    for (const { handlers } of [...this.subscriptions.values()]) handlers.state('lost', null)
  }

  message(type: number, decoder: decoding.Decoder): void {
    if (type === MessageTypes.ListInvalidate) {
      const { ids, row } = readListInvalidation(decoder)
      for (const id of ids) this.subscriptions.get(id)?.handlers.invalidated(row)
      return
    }
    const notice = readListState(decoder)
    if (notice === null) return
    const subscription = this.subscriptions.get(notice.id)
    if (subscription === undefined) return
    if (notice.state === 'active') {
      subscription.handlers.state('active', null)
      return
    }
    // Refused or ended: the server keeps nothing under this id any more.
    this.subscriptions.delete(notice.id)
    const error = new CardfileError(
      notice.code ?? ErrorCodes.Internal,
      notice.message ?? `The list subscription was ${notice.state}`,
    )
    subscription.handlers.state(notice.state, error)
  }
}
