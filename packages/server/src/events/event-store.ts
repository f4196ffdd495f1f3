import type { DomainEvent, NewDomainEvent } from './domain-event'

/** Where a consumer got to in the log. */
export interface ConsumerCursor {
  readonly name: string
  /** The seq of the last event it is done with. */
  readonly cursor: number
}

/**
 * The log of domain events and the cursors of their consumers. Events of a document change are
 * written by the document store inside the commit that holds the change (see
 * `DocumentStore.append`); other events are published here. A consumer reads the events after
 * its cursor while it holds a lease on it (one reader per consumer at a time, across restarts
 * and processes), and moves the cursor past an event once its effect is done: an effect cut off
 * by a crash runs again, so consumers make effects idempotent.
 */
export interface EventStore {
  /** Appends events that belong to no document commit (an erasure). */
  publish(events: readonly NewDomainEvent[]): Promise<void>
  /** The events after `after`, oldest first, at most `limit`. */
  read(after: number, limit: number): Promise<DomainEvent[]>
  /**
   * Takes (or renews) the lease on consumer `name` for `owner` until `leaseMs` from now and
   * resolves its cursor; null while another owner's lease runs. A consumer seen for the first
   * time starts after the newest event: it reacts to what happens from now on.
   */
  claim(name: string, owner: string, leaseMs: number): Promise<{ readonly cursor: number } | null>
  /**
   * {@link claim} for several consumers in one write (a server's start claims every consumer
   * at once, and each write of a durable store costs a flush to disk); resolves one answer per
   * name, in order.
   */
  claimAll(
    names: readonly string[],
    owner: string,
    leaseMs: number,
  ): Promise<readonly ({ readonly cursor: number } | null)[]>
  /**
   * Moves the cursor of `name` to `seq` (never backwards) and renews the lease, only while
   * `owner` holds it; false when it lost the lease (nothing moved then).
   */
  advance(name: string, owner: string, seq: number, leaseMs: number): Promise<boolean>
  /**
   * Gives up leases (on shutdown) in one write, so another process need not wait for them to
   * run out: each consumer's cursor moves to the `cursor` given (never backwards) and its lease
   * ends, for those `owner` still holds.
   */
  release(leases: readonly ConsumerCursor[], owner: string): Promise<void>
  /**
   * Deletes events that every consumer seen within `activeWithinMs` has passed, and any event
   * older than `maxAgeMs`; resolves how many went.
   */
  prune(options: { readonly activeWithinMs: number; readonly maxAgeMs: number }): Promise<number>
  /**
   * Drops the events about erased contacts and conversations (their `contact.erased` event
   * stays: consumers still need it).
   */
  forgetSubjects(workspace: string, subjects: readonly string[]): Promise<void>
}
