import {
  CardfileError,
  ErrorCodes,
  ROOT_MAPS,
  parseDocName,
  schemaDocName,
  seedWorkspace,
} from '@cardfile/core'
import type { Actor } from '@cardfile/core'
import type * as Y from 'yjs'
import type { DocumentHost } from '../document-host'
import type { ServerMetrics } from '../metrics'
import type { Backend } from '../backend'
import { errorContext } from './logger'
import type { ServerLogger } from './logger'
import { LiveDocument } from './live-document'
import type { CommitEvent, LiveDocumentDeps } from './live-document'
import type { DomainEventType } from '../events/domain-event'

/** The actor the server uses for its own writes (seeding a new workspace's schema). */
const SERVER_ACTOR: Actor = { userId: 'cardfile-server', role: 'system', name: 'Cardfile server' }

/** What the registry needs from the server around it. */
export interface DocumentRegistryOptions {
  readonly backend: Backend
  readonly metrics: ServerMetrics
  readonly logger: ServerLogger
  readonly onCommit?: ((event: CommitEvent) => void) | undefined
  /** The domain event types some consumer reacts to (commits write only those). */
  readonly eventTypes?: ReadonlySet<DomainEventType>
  /** Called after a commit that wrote events (wakes the consumers). */
  readonly onEvents?: () => void
  /** Seed a workspace's schema (platform attributes, default settings) when it is empty. */
  readonly seedWorkspaces: boolean
}

/**
 * Loads documents on first use, keeps each once in memory while anything holds it, and unloads
 * it when the last holder leaves and its commits have settled. A contact or conversation holds
 * its workspace's schema document, because authorizing its changes reads the schema.
 * Implements the {@link DocumentHost} seam for the rest of the server.
 */
export class DocumentRegistry implements DocumentHost {
  private readonly docs = new Map<string, LiveDocument>()
  private readonly loading = new Map<string, Promise<LiveDocument>>()
  /** Names being erased: loads refuse them until storage's tombstone is in place. */
  private readonly erasing = new Set<string>()
  /** What every live document gets from the registry: one object shared by all of them. */
  private readonly deps: LiveDocumentDeps

  constructor(private readonly options: DocumentRegistryOptions) {
    this.deps = {
      backend: options.backend,
      metrics: options.metrics,
      logger: options.logger,
      onCommit: options.onCommit,
      eventTypes: options.eventTypes ?? new Set(),
      onEvents: options.onEvents,
      onIdle: (live) => this.onIdle(live),
    }
  }

  /** Number of documents in memory. */
  get size(): number {
    return this.docs.size
  }

  /** Names of the documents in memory (for tests and diagnostics). */
  loadedNames(): string[] {
    return [...this.docs.keys()]
  }

  /**
   * Returns the live document for `docName`, loading it if needed, with one hold taken for the
   * caller (release it with `live.release()`). Rejects with `deleted` for an erased document.
   */
  async acquire(docName: string): Promise<LiveDocument> {
    const existing = this.docs.get(docName)
    if (existing !== undefined && !existing.failed && !existing.destroyed) {
      existing.hold()
      return existing
    }
    if (existing !== undefined) this.docs.delete(docName)
    let loading = this.loading.get(docName)
    if (loading === undefined) {
      loading = this.load(docName)
      this.loading.set(docName, loading)
      const clear = (): void => {
        this.loading.delete(docName)
      }
      loading.then(clear, clear)
    }
    const live = await loading
    live.hold()
    return live
  }

  private async load(docName: string): Promise<LiveDocument> {
    const parsed = parseDocName(docName)
    if (parsed === null) {
      throw new CardfileError(ErrorCodes.BadRequest, `"${docName}" is not a document name`)
    }
    const { backend, metrics } = this.options
    const schema =
      parsed.kind === 'schema' ? null : await this.acquire(schemaDocName(parsed.workspace))
    try {
      if (this.erasing.has(docName) || (await backend.documents.isErased(docName))) {
        throw new CardfileError(ErrorCodes.Deleted, `${docName} was deleted`)
      }
      const updates = await backend.documents.load(docName)
      if (this.erasing.has(docName)) {
        throw new CardfileError(ErrorCodes.Deleted, `${docName} was deleted`)
      }
      const live = new LiveDocument(docName, parsed, schema, updates, this.deps)
      this.docs.set(docName, live)
      metrics.documentsLoaded.set(this.docs.size)
      metrics.documentLoads.inc()
      if (parsed.kind === 'schema' && this.options.seedWorkspaces && isEmpty(live.doc)) {
        // Seeding is idempotent: two servers seeding at once write the same values.
        void live
          .transactAsHost(SERVER_ACTOR, (doc) => seedWorkspace(doc))
          .catch((error) => {
            this.options.logger.error('seeding the workspace failed', {
              doc: docName,
              ...errorContext(error),
            })
          })
      }
      return live
    } catch (error) {
      schema?.release()
      throw error
    }
  }

  /** Unloads `live` once nothing holds it and its commits have settled. */
  private onIdle(live: LiveDocument): void {
    if (live.holds > 0 || live.destroyed) return
    void live.settled().then(() => {
      if (live.holds > 0 || live.destroyed || live.busy) return
      live.destroy()
      if (this.docs.get(live.name) === live) this.docs.delete(live.name)
      this.options.metrics.documentsLoaded.set(this.docs.size)
      this.options.metrics.documentUnloads.inc()
      live.schema?.release()
    })
  }

  async transact<T>(docName: string, actor: Actor, change: (doc: Y.Doc) => T): Promise<T> {
    const live = await this.acquire(docName)
    try {
      return await live.transactAsHost(actor, change)
    } finally {
      live.release()
    }
  }

  async read<T>(docName: string, reader: (doc: Y.Doc) => T): Promise<T> {
    const live = await this.acquire(docName)
    try {
      if (live.erased) throw new CardfileError(ErrorCodes.Deleted, `${docName} was deleted`)
      return reader(live.doc)
    } finally {
      live.release()
    }
  }

  async erase(docNames: readonly string[]): Promise<void> {
    for (const name of docNames) this.erasing.add(name)
    try {
      for (const name of docNames) {
        const live = this.docs.get(name) ?? (await this.loading.get(name)?.catch(() => undefined))
        if (live === undefined) continue
        live.erased = true
        // Let in-flight commits land first, so nothing written before the erase outlives it.
        await live.settled()
        live.purge('erased')
      }
      await this.options.backend.documents.erase(docNames)
    } finally {
      for (const name of docNames) this.erasing.delete(name)
    }
  }

  /** Resolves when every loaded document's commits have settled. */
  async settled(): Promise<void> {
    await Promise.all([...this.docs.values()].map((live) => live.settled()))
  }

  /** Frees every document (after {@link settled}; used on shutdown). */
  destroyAll(): void {
    for (const live of this.docs.values()) live.destroy()
    this.docs.clear()
    this.options.metrics.documentsLoaded.set(0)
  }
}

const isEmpty = (doc: Y.Doc): boolean =>
  ROOT_MAPS.schema.every((root) => doc.getMap(root).size === 0)
