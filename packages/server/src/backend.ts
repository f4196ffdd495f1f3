import type { BlobStore } from './blobs/blob-store'
import type { CrmStorage } from './crm/crm-storage'
import type { DeletionLog } from './deletion/deletion-log'
import type { EventStore } from './events/event-store'
import type { ExportStore } from './exports/export-store'
import type { ValueHistoryStore } from './history/value-history'
import type { InboundLog } from './ingestion/inbound-log'
import type { JobStore } from './jobs/job-store'
import type { LinkStorage } from './linking/link-store'
import type { WebhookStore } from './webhooks/webhook-store'
import type { DocumentOwners } from './storage/document-owners'
import type { DocumentStore } from './storage/document-store'
import type { IndexStore } from './storage/index-store'

/**
 * Everything the server keeps, as narrow stores, each owned by its feature: one factory per
 * engine makes them all over one database (`createSqliteBackend` from `@cardfile/server/sqlite`,
 * `createMemoryBackend` from `@cardfile/server/memory`), so that stores that must change
 * together (a document's update, its index row and its events) share its transactions. Every
 * store has one contract test suite that runs against every engine.
 *
 * @example
 * const backend = createSqliteBackend('./cardfile.db')
 * const server = await createCardfileServer({ backend, auth: { secret } })
 */
export interface Backend {
  /**
   * The backend's generation: an id made when its database was created and never changed
   * after. A new or replaced database has a new one, so clients can tell that their cached
   * copies belong to another store (see PROTOCOL.md, "103 hello").
   *
   * @example
   * const generation = await backend.generation() // '6f1c…', the same after every restart
   */
  generation(): Promise<string>
  /** Documents: updates, snapshots, tombstones. */
  readonly documents: DocumentStore
  /** Which server instance decides for each loaded document (leases with epochs). */
  readonly owners: DocumentOwners
  /** The contact and conversation index. */
  readonly index: IndexStore
  /** Manual links between contacts and the chunked re-computation of matching values. */
  readonly links: LinkStorage
  /** The append-only deleted-contacts audit log. */
  readonly deletionLog: DeletionLog
  /**
   * Every committed change of contacts' values (document commits write theirs through
   * `documents.append`), erased with the contact.
   */
  readonly valueHistory: ValueHistoryStore
  /** Consistent snapshots of the contact index, which exports read. */
  readonly exports: ExportStore
  /**
   * Where generated files live (export CSVs). SQLite: the folder `<db file>-exports` unless
   * given another store; memory: in memory.
   */
  readonly blobs: BlobStore
  /** CRM connection settings, pending write-backs and lookup outcomes. */
  readonly crm: CrmStorage
  /** Webhooks registered per workspace (their deliveries are jobs). */
  readonly webhooks: WebhookStore
  /** The domain event log (document commits write theirs through `documents.append`). */
  readonly events: EventStore
  /** The leased jobs table. */
  readonly jobs: JobStore
  /** The answers given to channel messages, for retries of the same message. */
  readonly inbound: InboundLog
  /** Counters for metrics (commit latency, pending appends). */
  stats(): StorageStats
  /**
   * False while the backend cannot reach a service it depends on (a database server):
   * `/readyz` then answers 503 so a load balancer sends clients elsewhere. Embedded backends
   * are always available.
   */
  available(): boolean
  /** Flushes pending commits and closes every store; later calls return the first call's promise. */
  close(): Promise<void>
}

/** What a backend reports for metrics. */
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
  /**
   * Of `commits`, those run on a thread of their own, off the event loop (SQLite's commit
   * thread); absent where commits are asynchronous I/O anyway.
   */
  readonly offThreadCommits?: number
}

/** Where storage reports problems it handles itself (background compaction failures). */
export interface StorageLogger {
  /** Optional: what a storage does in the background (its commit thread being ready). */
  debug?(message: string, context?: Record<string, unknown>): void
  warn(message: string, context?: Record<string, unknown>): void
  error(message: string, context?: Record<string, unknown>): void
}
