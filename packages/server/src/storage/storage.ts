import type { ChannelId, ConversationStatus, Role } from '@cardfile/core'
import type { BlobStore } from '../blobs/blob-store'
import type { DeletionLog } from '../deletion/deletion-log'
import type { ExportStore } from '../exports/export-store'
import type { CrmStorage } from '../crm/crm-storage'
import type { NewDomainEvent } from '../events/domain-event'
import type { EventStore } from '../events/event-store'
import type { JobStore } from '../jobs/job-store'
import type { InboundLog } from '../ingestion/inbound-log'
import type { ContactIndexRow, ConversationIndexRow, IndexRow, Page } from './index-row-types'

export type { ContactIndexRow, ConversationIndexRow, IndexRow, Page } from './index-row-types'

/**
 * Where the server keeps documents and its index. Every adapter (SQLite embedded default,
 * PostgreSQL for several instances) makes the same promises:
 * - `append` resolves only after the update is committed (group commit: appends arriving close
 *   together share one transaction); a restart loses nothing that resolved.
 * - `erase` deletes the erased documents and their index rows, leaving a tombstone so that a
 *   stale client can never bring the document back; once `sealErasure` resolves, no file the
 *   store keeps holds a readable copy of anything deleted before it.
 */
export interface Storage {
  /**
   * The store's generation: an id made when the store was created and never changed after.
   * A new or replaced database has a new one, so clients can tell that their cached copies
   * belong to another store (see PROTOCOL.md, "103 hello").
   *
   * @example
   * const generation = await storage.generation() // '6f1c…', the same after every restart
   */
  generation(): Promise<string>
  /** Everything stored for a document, in order (snapshot first); empty when unknown. */
  load(docName: string): Promise<Uint8Array[]>
  /**
   * Appends one update (with the index row derived from the document's new state, if any, and
   * the domain events it announces) and resolves after the commit that holds all of them.
   */
  append(
    docName: string,
    update: Uint8Array,
    index?: IndexRow,
    events?: readonly NewDomainEvent[],
  ): Promise<void>
  /** True when the document was erased (tombstoned). */
  isErased(docName: string): Promise<boolean>
  /**
   * Erases documents, their index rows and their attachments, leaving tombstones. Deleted rows
   * may linger in a write-ahead log until {@link sealErasure}.
   */
  erase(docNames: readonly string[]): Promise<void>
  /**
   * Makes every deletion so far final in every file the store keeps (SQLite copies the WAL into
   * the main file, where secure_delete zeroed the rows, and truncates it). The last step of an
   * erasure, once every store has dropped its rows; rejects (`internal`) when it could not, and
   * calling it again finishes the job.
   */
  sealErasure(): Promise<void>
  /** Looks up a contact by its channel identity. */
  findContact(
    workspace: string,
    channel: ChannelId,
    platformUserId: string,
  ): Promise<ContactIndexRow | null>
  /** The most recent conversation of a contact that is not resolved, or null. */
  findOpenConversation(workspace: string, contactId: string): Promise<ConversationIndexRow | null>
  /** Lists contacts, newest first; `vip: true` for the VIP group. */
  listContacts(
    workspace: string,
    query: {
      readonly vip?: boolean
      /**
       * Only contacts whose normalised matching value equals this one (the linked
       * contacts of a person across channels).
       */
      readonly matchValue?: string
      readonly limit: number
      readonly cursor?: string | null
    },
  ): Promise<Page<ContactIndexRow>>
  /** Lists conversations: of given contacts newest first, or a team's queue by priority. */
  listConversations(
    workspace: string,
    query: {
      readonly contactIds?: readonly string[]
      readonly team?: string | null
      readonly status?: readonly ConversationStatus[]
      readonly order: 'newest' | 'priority'
      readonly limit: number
      readonly cursor?: string | null
    },
  ): Promise<Page<ConversationIndexRow>>
  /** Flushes pending commits and closes. */
  close(): Promise<void>
  /**
   * Counters for metrics (commit latency, pending appends). Optional so that an
   * adapter without them still fits.
   */
  stats?(): StorageStats
  /**
   * Addition (linking): manual links and re-linking. Optional so that an adapter without it
   * still fits; the linking endpoints answer "not supported" then.
   */
  readonly links?: LinkStorage
  /**
   * Addition (deletion): the append-only deleted-contacts audit log, and erasure of the rows
   * about a contact outside its documents (links). Optional: without it contacts can't be
   * deleted through the API.
   */
  readonly deletionLog?: DeletionLog
  /** Consistent snapshots of the contact index, which exports read. Optional likewise. */
  readonly exportStore?: ExportStore
  /**
   * Where generated files live (export CSVs). SQLite: the folder `<db file>-exports` unless
   * given another store; memory: in memory. Optional likewise: exports need it.
   */
  readonly blobs?: BlobStore
  /**
   * Addition (CRM): connection settings, the durable outbox, pending write-backs and lookup
   * outcomes. Optional likewise; a server with the CRM integration requires it.
   */
  readonly crm?: CrmStorage
  /** The domain event log (document commits write theirs through `append`). */
  readonly events: EventStore
  /** The leased jobs table. */
  readonly jobs: JobStore
  /** The answers given to channel messages, for retries of the same message. */
  readonly inbound: InboundLog
}

/** Addition (linking): who made a manual link or unlink. */
export interface LinkAuthor {
  readonly role: Role
  readonly userId: string
}

/**
 * Addition (linking): the current manual record of a pair of contacts (a < b). `link` joins
 * their groups; `unlink` detaches `subject` from automatic linking with the other contact.
 */
export interface ContactLinkRecord {
  readonly workspace: string
  readonly a: string
  readonly b: string
  readonly kind: 'link' | 'unlink'
  readonly subject: string
  readonly by: LinkAuthor
  readonly at: number
}

/** Addition (linking): one entry of the record of manual link changes. */
export interface ContactLinkLogEntry {
  readonly seq: number
  readonly workspace: string
  readonly a: string
  readonly b: string
  readonly action: 'link' | 'unlink' | 'revert'
  readonly subject: string
  readonly by: LinkAuthor
  readonly at: number
}

/** Addition (linking): what one chunk of a re-link did. */
export interface RelinkChunk {
  /** Contacts read in this chunk. */
  readonly processed: number
  /** Contacts whose matching value changed. */
  readonly changed: number
  /** Id of the last contact read; pass it as `after` for the next chunk; null at the end. */
  readonly last: string | null
}

/** Addition (linking): storage of manual links and chunked recomputation of matching values. */
export interface LinkStorage {
  /** Writes the pair's current record (replacing any) and appends it to the log. */
  putLink(record: ContactLinkRecord): Promise<void>
  /** Deletes the pair's record, logging a revert; resolves the removed record or null. */
  removeLink(
    workspace: string,
    a: string,
    b: string,
    by: LinkAuthor,
    at: number,
  ): Promise<ContactLinkRecord | null>
  /** The current records that involve any of the contacts. */
  linksOf(workspace: string, contactIds: readonly string[]): Promise<ContactLinkRecord[]>
  /** The log of a contact's link changes, newest first. */
  linkLog(
    workspace: string,
    contactId: string,
    query: { readonly limit: number; readonly cursor?: string | null },
  ): Promise<Page<ContactLinkLogEntry>>
  /** Contact rows by id (unknown ids are left out). */
  contactsByIds(workspace: string, ids: readonly string[]): Promise<ContactIndexRow[]>
  /** How many contacts the workspace has. */
  countContacts(workspace: string): Promise<number>
  /**
   * Recomputes `matchValue` from `values` for up to `limit` contacts with id greater than
   * `after` (in id order), in one short transaction.
   */
  recomputeMatchValues(
    workspace: string,
    compute: (values: Readonly<Record<string, string>>) => string | null,
    after: string | null,
    limit: number,
  ): Promise<RelinkChunk>
}

/** What a storage adapter reports for metrics. */
export interface StorageStats {
  /** Appends queued and not yet committed. */
  readonly pendingAppends: number
  /** Transactions committed since start (a group commit counts once). */
  readonly commits: number
  /** Appends committed since start. */
  readonly appends: number
  /** Duration of the last commit in milliseconds (0 before the first). */
  readonly lastCommitMs: number
  /** Compactions of a document into its snapshot since start. */
  readonly compactions: number
}
