import type { NewDomainEvent } from '../events/domain-event'
import type { ValueChange } from '../history/value-history'
import type { DocumentFence } from './document-owners'
import type { IndexRow } from './index-store'

/**
 * An append a database backend has queued for its next group commit, with what goes in the
 * same transaction (index row, domain events, value history, owner fence). `resolve` runs once
 * the commit is durable, `reject` with the reason the append was refused or the commit failed.
 */
export interface PendingAppend {
  readonly doc: string
  readonly update: Uint8Array
  readonly index: IndexRow | undefined
  readonly events: readonly NewDomainEvent[] | undefined
  readonly fence: DocumentFence | undefined
  readonly history: readonly ValueChange[] | undefined
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}
