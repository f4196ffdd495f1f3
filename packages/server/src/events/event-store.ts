import type { DomainEvent, NewDomainEvent } from './domain-event'

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
   * Moves the cursor of `name` to `seq` (never backwards) and renews the lease, only while
   * `owner` holds it; false when it lost the lease (nothing moved then).
   */
  advance(name: string, owner: string, seq: number, leaseMs: number): Promise<boolean>
  /** Gives up the lease (on shutdown), so another process need not wait for it to run out. */
  release(name: string, owner: string): Promise<void>
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
