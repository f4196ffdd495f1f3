import {
  CardfileError,
  ErrorCodes,
  ROOT_MAPS,
  contactDocName,
  isValidId,
  parseDocName,
  schemaDocName,
  VIP_ATTRIBUTE_ID,
  attributeKey,
  ensureVipDefinition,
  seedWorkspace,
} from '@cardfile/core'
import type { Actor, DocName, Plan } from '@cardfile/core'
import type * as Y from 'yjs'
import type { DocumentHost } from '../document-host'
import type { ServerMetrics } from '../metrics'
import type { Backend } from '../backend'
import { errorContext } from './logger'
import type { ServerLogger } from './logger'
import { LiveDocument } from './live-document'
import type { CommitEvent, LiveDocumentDeps } from './live-document'
import type { DomainEventType } from '../events/domain-event'
import type { ClusterHost, ClusterNode } from '../cluster/cluster-node'
import { ReplicaDocument } from '../cluster/replica-document'
import type { ReplicaDeps } from '../cluster/replica-document'
import type { DocumentFence } from '../storage/document-owners'
import type { ListChange } from '../lists/list-change'

/** A loaded document: owned here, or followed from the instance that owns it. */
export type HostedDocument = LiveDocument | ReplicaDocument

/** How long an instance refuses to load a document another instance announced erased. */
const PURGED_MEMORY_MS = 60_000

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
  /**
   * Creates a workspace never created before on this plan the first time anything uses it.
   * Absent: a workspace exists only once {@link DocumentRegistry.createWorkspace} made it, and
   * every document of another one is refused `unknown-workspace`.
   */
  readonly autoCreateWorkspaces?: Plan | undefined
  /** Called, in commit order, after a commit that may have changed a list kept live. */
  readonly onListChange?: ((change: ListChange) => void) | undefined
  /**
   * This instance's part in a cluster: documents are then owned by one instance at a time and
   * followed by the others. Absent: this is the only instance and owns everything.
   */
  readonly cluster?: ClusterNode | undefined
}

/**
 * Loads documents on first use, keeps each once in memory while anything holds it, and unloads
 * it when the last holder leaves and its commits have settled. A contact or conversation holds
 * its workspace's schema document, because authorizing its changes reads the schema.
 * Implements the {@link DocumentHost} seam for the rest of the server.
 */
export class DocumentRegistry implements DocumentHost, ClusterHost {
  private readonly docs = new Map<string, HostedDocument>()
  private readonly loading = new Map<string, Promise<HostedDocument>>()
  /** Replicas waiting for their owner's first answer (they hear the bus before they load). */
  private readonly joining = new Map<string, ReplicaDocument>()
  /** Names being erased: loads refuse them until storage's tombstone is in place. */
  private readonly erasing = new Set<string>()
  /** Schema documents being created here: their empty load is expected. */
  private readonly creating = new Map<string, number>()
  /** Names another instance erased lately (until storage's tombstone is certainly there). */
  private readonly purged = new Map<string, ReturnType<typeof setTimeout>>()
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
      onListChange: options.onListChange,
      onIdle: (live) => this.onIdle(live),
      contactFor: (live, name) => this.contactFor(live, name),
    }
  }

  /** Conversations let go of an erased contact, so that it leaves memory now, not when they do. */
  private dropContactHolds(name: string): void {
    for (const doc of this.docs.values()) {
      if (doc instanceof LiveDocument && doc.heldContact?.name === name) {
        const held = doc.heldContact
        doc.heldContact = null
        doc.goneContact = name
        held.release()
      }
    }
  }

  /**
   * The contact document `live` (a conversation) reads for its rules: the copy in memory, held
   * by the conversation until it unloads; null when the contact was erased; undefined while it
   * is not in memory, in which case it is loaded (and held) for the next attempt.
   */
  private contactFor(live: LiveDocument, name: string): Y.Doc | null | undefined {
    if (live.goneContact === name || this.erasing.has(name) || this.purged.has(name)) return null
    const hold = (doc: HostedDocument): void => {
      if (live.destroyed) {
        doc.release()
        return
      }
      live.heldContact?.release()
      live.heldContact = doc
    }
    if (live.heldContact?.name === name && !(live.heldContact as HostedDocument).destroyed) {
      return (live.heldContact as HostedDocument).erased ? null : live.heldContact.doc
    }
    const loaded = this.lookup(name)
    if (loaded !== undefined && !loaded.destroyed && !loaded.failed) {
      if (loaded.erased) return null
      loaded.hold()
      hold(loaded)
      return loaded.doc
    }
    this.acquire(name).then(hold, (error: unknown) => {
      if (error instanceof CardfileError && error.code === ErrorCodes.Deleted) {
        live.goneContact = name
      }
    })
    return undefined
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
  async acquire(docName: string): Promise<HostedDocument> {
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

  private async load(docName: string): Promise<HostedDocument> {
    const parsed = parseDocName(docName)
    if (parsed === null) {
      throw new CardfileError(ErrorCodes.BadRequest, `"${docName}" is not a document name`)
    }
    const cluster = this.options.cluster
    if (cluster === undefined) return this.loadLive(docName, parsed, undefined)
    this.refuseErased(docName)
    if (await this.options.backend.documents.isErased(docName)) {
      throw new CardfileError(ErrorCodes.Deleted, `${docName} was deleted`)
    }
    const ownership = await cluster.claim(docName)
    if (ownership.owned) {
      return this.loadLive(docName, parsed, { owner: cluster.instanceId, epoch: ownership.epoch })
    }
    return this.loadReplica(cluster, docName, parsed, ownership.owner)
  }

  private refuseErased(docName: string): void {
    if (this.erasing.has(docName) || this.purged.has(docName)) {
      throw new CardfileError(ErrorCodes.Deleted, `${docName} was deleted`)
    }
  }

  /** Loads a document this instance decides for (the only instance, or the owner under `fence`). */
  private async loadLive(
    docName: string,
    parsed: DocName,
    fence: DocumentFence | undefined,
  ): Promise<LiveDocument> {
    const { backend, metrics } = this.options
    const schema =
      parsed.kind === 'schema' ? null : await this.acquire(schemaDocName(parsed.workspace))
    try {
      this.refuseErased(docName)
      if (fence === undefined && (await backend.documents.isErased(docName))) {
        throw new CardfileError(ErrorCodes.Deleted, `${docName} was deleted`)
      }
      const updates = await backend.documents.load(docName)
      this.refuseErased(docName)
      // Nothing stored for a schema: the workspace was never created (schema entries are never
      // deleted, so a created one always has updates).
      const create =
        parsed.kind === 'schema' && updates.length === 0
          ? this.creating.has(docName)
            ? null
            : this.options.autoCreateWorkspaces
          : null
      if (create === undefined) {
        throw new CardfileError(
          ErrorCodes.UnknownWorkspace,
          `Workspace "${parsed.workspace}" does not exist (cardfile workspace create)`,
        )
      }
      const live = new LiveDocument(docName, parsed, schema, updates, this.deps, fence)
      this.docs.set(docName, live)
      const requires = [...(schema?.view().definitions.values() ?? [])].some(
        (d) => d.rules.required && !d.retired,
      )
      if (parsed.kind === 'conversation' && requires) {
        // Resolving reads the contact's required values: have them at hand before anyone asks
        // (only where some attribute is required: elsewhere a conversation needs no contact).
        const contactId = live.doc.getMap('meta').get('contactId')
        if (typeof contactId === 'string' && isValidId(contactId)) {
          this.contactFor(live, contactDocName(parsed.workspace, contactId))
        }
      }
      if (fence !== undefined) this.options.cluster?.ownerLoaded(live, fence.epoch)
      metrics.documentsLoaded.set(this.docs.size)
      metrics.documentLoads.inc()
      const upgrade = create === null && parsed.kind === 'schema' && lacksVipDefinition(live.doc)
      if (create !== null || upgrade) {
        // Seeding is idempotent: two servers seeding at once write the same values. A schema
        // written before VIP was an attribute gets its definition; nothing else changes.
        void live
          .transactAsHost(SERVER_ACTOR, (doc) => {
            if (create !== null) seedWorkspace(doc, { plan: create })
            else ensureVipDefinition(doc)
          })
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
      if (fence !== undefined) void this.options.cluster?.giveUp(docName, fence.epoch)
      throw error
    }
  }

  /** Follows a document `owner` decides for; resolves once the replica caught up. */
  private async loadReplica(
    cluster: ClusterNode,
    docName: string,
    parsed: DocName,
    owner: string,
  ): Promise<HostedDocument> {
    const replica = new ReplicaDocument(docName, parsed, this.replicaDeps(cluster, docName))
    this.joining.set(docName, replica)
    try {
      await cluster.join(replica, owner)
      this.refuseErased(docName)
    } catch (error) {
      replica.destroy()
      throw error
    } finally {
      this.joining.delete(docName)
    }
    if (replica.promoted !== null) return replica.promoted
    this.docs.set(docName, replica)
    this.options.metrics.documentsLoaded.set(this.docs.size)
    this.options.metrics.documentLoads.inc()
    return replica
  }

  private replicaDeps(cluster: ClusterNode, docName: string): ReplicaDeps {
    return {
      instanceId: cluster.instanceId,
      send: (to, message) => cluster.send(to, message),
      load: () => this.options.backend.documents.load(docName),
      metrics: this.options.metrics,
      logger: this.options.logger,
      onIdle: (replica) => this.onIdle(replica),
      onOwnerLost: (replica) => void cluster.resolve(replica),
    }
  }

  lookup(name: string): HostedDocument | undefined {
    return this.docs.get(name) ?? this.joining.get(name)
  }

  loaded(): Iterable<HostedDocument> {
    return [...this.docs.values(), ...this.joining.values()]
  }

  async promote(replica: ReplicaDocument, epoch: number): Promise<void> {
    const cluster = this.options.cluster
    if (cluster === undefined || replica.destroyed || replica.promoted !== null) return
    const live = await this.loadLive(replica.name, replica.parsed, {
      owner: cluster.instanceId,
      epoch,
    })
    this.options.logger.info('took a document over', { doc: replica.name })
    if (replica.destroyed) {
      // Nobody needs it any more: the new live document unloads when idle.
      live.hold()
      live.release()
      return
    }
    replica.promote(live)
  }

  purgeLocal(name: string, reason: string): void {
    // This instance's own erase purges its documents itself, after their commits settled.
    if (this.erasing.has(name)) return
    const previous = this.purged.get(name)
    if (previous !== undefined) clearTimeout(previous)
    const timer = setTimeout(() => this.purged.delete(name), PURGED_MEMORY_MS)
    timer.unref()
    this.purged.set(name, timer)
    const doc = this.lookup(name)
    if (doc === undefined) return
    doc.erased = true
    void doc.settled().then(() => {
      doc.purge(reason)
      this.dropContactHolds(name)
    })
  }

  /** Unloads `doc` once nothing holds it and its commits have settled. */
  private onIdle(doc: HostedDocument): void {
    if (doc.holds > 0 || doc.destroyed) return
    void doc.settled().then(() => {
      if (doc.holds > 0 || doc.destroyed || doc.busy) return
      doc.destroy()
      if (this.docs.get(doc.name) === doc) this.docs.delete(doc.name)
      // At rest now: storage may compact it (see DocumentStore.unloaded).
      this.options.backend.documents.unloaded?.(doc.name)
      this.options.metrics.documentsLoaded.set(this.docs.size)
      this.options.metrics.documentUnloads.inc()
      doc.schema?.release()
      if (doc instanceof LiveDocument) {
        doc.heldContact?.release()
        doc.heldContact = null
        this.options.cluster?.ownerUnloaded(doc)
      }
    })
  }

  async transact<T>(docName: string, actor: Actor, change: (doc: Y.Doc) => T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const live = await this.acquire(docName)
      try {
        // Failed or given up between its load and now (storage failed, another instance took it
        // over): nothing of the change ran yet, so it runs on a copy loaded afresh.
        if ((live.failed || live.destroyed) && attempt < 2) continue
        return await live.transactAsHost(actor, change)
      } finally {
        live.release()
      }
    }
  }

  async createWorkspace(workspace: string, plan: Plan): Promise<void> {
    const name = schemaDocName(workspace)
    this.creating.set(name, (this.creating.get(name) ?? 0) + 1)
    try {
      const created = await this.transact(name, SERVER_ACTOR, (doc) => {
        if (!isEmpty(doc)) return false
        seedWorkspace(doc, { plan })
        return true
      })
      if (!created) {
        throw new CardfileError(
          ErrorCodes.WorkspaceExists,
          `Workspace "${workspace}" already exists (change its plan with set-plan)`,
        )
      }
    } finally {
      const left = (this.creating.get(name) ?? 1) - 1
      if (left > 0) this.creating.set(name, left)
      else this.creating.delete(name)
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
      // Every other instance stops serving them first (its purge waits for its commits).
      const cluster = this.options.cluster
      if (cluster !== undefined) {
        await Promise.all(docNames.map((name) => cluster.announcePurge(name, 'erased')))
      }
      for (const name of docNames) {
        const live = this.lookup(name) ?? (await this.loading.get(name)?.catch(() => undefined))
        if (live === undefined) continue
        live.erased = true
        // Let in-flight commits land first, so nothing written before the erase outlives it.
        await live.settled()
        live.purge('erased')
        this.dropContactHolds(name)
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

  /** Frees every document (after {@link settled}; used on shutdown), giving up its lease. */
  destroyAll(): void {
    for (const live of this.docs.values()) {
      live.destroy()
      if (live instanceof LiveDocument) this.options.cluster?.ownerUnloaded(live)
    }
    this.docs.clear()
    this.options.metrics.documentsLoaded.set(0)
  }
}

const isEmpty = (doc: Y.Doc): boolean =>
  ROOT_MAPS.schema.every((root) => doc.getMap(root).size === 0)

/** A created workspace's schema written before VIP was an attribute. */
const lacksVipDefinition = (doc: Y.Doc): boolean =>
  !isEmpty(doc) && !doc.getMap('attributes').has(attributeKey(VIP_ATTRIBUTE_ID, 'kind'))
