import type { Coordination } from '../coordination/coordination'
import type { ContactErasureHook, ErasureBarrier } from '../deletion/contact-erasure'
import type { DocumentHost } from '../document-host'
import type { EventConsumer } from '../events/event-consumers'
import type { HttpRequestHandler } from '../http/http-context'
import type { Job, JobState, NewJob } from '../jobs/job-store'
import type { JobHandler } from '../jobs/job-runner'
import type { ServerMetrics } from '../metrics'
import type { Backend } from '../backend'
import type { ServerLogger } from '../sync/logger'

/** What the server hands every extension when it starts it. */
export interface ExtensionContext {
  /** Reads and changes documents (persisted, relayed and announced like clients' changes). */
  readonly host: DocumentHost
  readonly backend: Backend
  readonly coordination: Coordination
  readonly logger: ServerLogger
  readonly metrics: ServerMetrics
  /** Unique per process run: the owner named on the leases this process takes. */
  readonly instanceId: string
  /** Enqueues a job (once per kind and key) and wakes the job runner. */
  enqueue(job: NewJob): Promise<Job>
  /**
   * Tells live lists that a job changed outside the job runner (cancelled, queued again), so
   * whoever follows it hears of it; the runner's own steps are announced already.
   */
  jobChanged(job: Pick<Job, 'id' | 'kind' | 'workspace'>, state: JobState): void
}

/** What a started extension contributes to the server. */
export interface ExtensionParts {
  /** Reactions to domain events; names unique across extensions, stable across versions. */
  readonly consumers?: readonly EventConsumer[]
  /** Handlers of the job kinds it owns. */
  readonly jobs?: readonly JobHandler[]
  /** Its HTTP routes: resolves false for a request it does not serve. */
  readonly routes?: HttpRequestHandler
  /** Told after a contact is erased, to drop what the extension holds about it. */
  readonly onContactErased?: ContactErasureHook
  /**
   * Passed before a contact is erased, released once the erasure is sealed: keeps the
   * extension's own readers clear of it (exports close their snapshots of the contact index).
   */
  readonly beforeContactErased?: ErasureBarrier
  /**
   * Stops its own work (the server stops consumers and jobs first, and closes the backend
   * only after every extension stopped).
   */
  stop?(): Promise<void>
}

/**
 * A feature of the server (routing, CRM, linking, deletion, exports, ingestion) with one
 * contract: `start` gets the server's parts and returns the feature's event consumers, job
 * handlers, routes and its `stop`. The server starts extensions in the order given, serves
 * their routes in that order, and stops them in reverse.
 *
 * @example
 * const audit: Extension = {
 *   name: 'audit',
 *   start: ({ logger }) => ({
 *     consumers: [{ name: 'audit', types: ['contact.erased'], handle: async (e) => logger.info('erased', { contact: e.subject }) }],
 *   }),
 * }
 * await createCardfileServer({ backend, auth, extensions: [audit] })
 */
export interface Extension {
  /** Names its consumers' cursors and its log lines: keep it stable. */
  readonly name: string
  start(context: ExtensionContext): ExtensionParts | Promise<ExtensionParts>
}
