import type { NewDomainEvent } from '../events/domain-event'
import type { ValueChange } from '../history/value-history'
import type { DocumentFence } from './document-owners'
import type { IndexRow } from './index-row-types'

/**
 * One append as a database backend commits it, with what goes in the same transaction (index
 * row, domain events, owner fence). Plain data: SQLite's may cross to a worker thread.
 */
export interface AppendRecord {
  readonly doc: string
  readonly update: Uint8Array
  readonly index: IndexRow | undefined
  readonly events: readonly NewDomainEvent[] | undefined
  readonly fence: DocumentFence | undefined
  /** The value changes of a contact's commit, written with it. */
  readonly history: readonly ValueChange[] | undefined
}

/**
 * An append a database backend has queued for its next group commit: `resolve` runs once the
 * commit is durable, `reject` with the reason the append was refused or the commit failed.
 */
export interface PendingAppend extends AppendRecord {
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}
