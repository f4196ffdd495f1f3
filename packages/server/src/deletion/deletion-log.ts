import type { ChannelId } from '@cardfile/core'
import type { Page } from '../storage/index-row-types'

/**
 * One record of the deleted-contacts audit log. It keeps only what an admin needs to recognise
 * a deletion (the contact's masked hint and platform) and who deleted it when: no contact id,
 * no values, no messages.
 */
export interface DeletionRecord {
  readonly workspace: string
  /** The record's own id (not the erased contact's). */
  readonly id: string
  /** The contact's masked handle, such as `@an***a`. */
  readonly hint: string
  readonly channel: ChannelId
  readonly deletedAt: number
  readonly deletedBy: { readonly userId: string; readonly name: string | null }
}

/**
 * The append-only deleted-contacts log, plus the erasure of what a storage keeps about a contact
 * outside its documents. There is deliberately no method that changes or removes a record (and
 * the SQLite table refuses UPDATE and DELETE by trigger).
 */
export interface DeletionLog {
  /** Adds one record. */
  append(record: DeletionRecord): Promise<void>
  /** A workspace's records, newest first, keyset-paginated like the other lists. */
  list(
    workspace: string,
    query: { readonly limit: number; readonly cursor?: string | null },
  ): Promise<Page<DeletionRecord>>
  /**
   * Erases rows about the contact that are not part of a document: its manual links and their
   * change log. Document rows, index rows and tombstones are `DocumentStore.erase`'s job.
   */
  eraseContactRows(workspace: string, contactId: string): Promise<void>
}
