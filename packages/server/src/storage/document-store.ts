import type { NewDomainEvent } from '../events/domain-event'
import type { ValueChange } from '../history/value-history'
import type { DocumentFence } from './document-owners'
import type { IndexRow } from './index-row-types'

/**
 * Where documents live: their updates in order, compacted into a snapshot now and then, and
 * tombstones of the erased ones. Every engine makes the same promises:
 * - `append` resolves only after the update is committed (group commit: appends arriving close
 *   together share one transaction), together with the document's index row, the domain
 *   events it announces and the value changes it makes; a restart loses nothing that resolved.
 *   A contact row whose matching value changes also writes, in that transaction, the
 *   `contact.linked` events of the automatic links it makes and breaks (`autoLinkEvents`).
 * - `erase` deletes the documents and their index rows, leaving a tombstone so that a stale
 *   client can never bring one back; once `sealErasure` resolves, no file the backend keeps
 *   holds a readable copy of anything deleted before it.
 */
export interface DocumentStore {
  /** Everything stored for a document, in order (snapshot first); empty when unknown. */
  load(docName: string): Promise<Uint8Array[]>
  /**
   * Appends one update (with the index row derived from the document's new state, if any, the
   * domain events it announces and its value changes) and resolves after the commit that holds
   * all of them.
   * Rejects `deleted` for an erased document. With a `fence`, rejects `fenced` (and writes
   * nothing) unless that ownership is still the document's current one, checked in the commit's
   * own transaction (see `Backend.owners`).
   */
  append(
    docName: string,
    update: Uint8Array,
    index?: IndexRow,
    events?: readonly NewDomainEvent[],
    fence?: DocumentFence,
    /** The contact value changes the update makes (kept in `Backend.valueHistory`). */
    history?: readonly ValueChange[],
  ): Promise<void>
  /**
   * Merges a document's updates into its snapshot now; resolves true when it did (the engines
   * also compact in the background past a number of updates).
   */
  compact(docName: string): Promise<boolean>
  /**
   * Tells the engine that the server unloaded the document (nobody has it open any more): an
   * engine that compacts may compact it now, in the background, if it was written since its
   * last compaction, so that it rests as its garbage-collected state.
   */
  unloaded?(docName: string): void
  /** True when the document was erased (tombstoned). */
  isErased(docName: string): Promise<boolean>
  /**
   * Erases documents, their index rows and their attachments, leaving tombstones. Deleted rows
   * may linger in a write-ahead log until {@link sealErasure}.
   */
  erase(docNames: readonly string[]): Promise<void>
  /**
   * Makes every deletion so far final in every file the backend keeps (SQLite copies the WAL
   * into the main file, where secure_delete zeroed the rows, and truncates it). The last step of
   * an erasure, once every store has dropped its rows; rejects (`internal`) when it could not,
   * and calling it again finishes the job.
   */
  sealErasure(): Promise<void>
}
