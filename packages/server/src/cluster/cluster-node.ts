import { CardfileError, CloseCodes, ErrorCodes, encodeDurableAck } from '@cardfile/core'
import * as Y from 'yjs'
import type { DocumentOwners } from '../storage/document-owners'
import { fenced } from '../storage/document-owners'
import type { LiveDocument } from '../sync/live-document'
import { errorContext } from '../sync/logger'
import { presenceChanges } from '../sync/presence-guard'
import type { ServerLogger } from '../sync/logger'
import { BusKinds, decodeBusMessage, encodeBusMessage } from './bus-messages'
import type { BusMessage } from './bus-messages'
import type { ClusterBus } from './cluster-bus'
import { FollowerLink, RemoteClient } from './owner-peers'
import { ReplicaDocument } from './replica-document'

/** Default time a document's ownership outlives an owner that stopped renewing it. */
export const DEFAULT_OWNER_LEASE_MS = 10_000

/** What the node needs from the registry that keeps the documents. */
export interface ClusterHost {
  /** The document loaded here under `name` (owned or followed). */
  lookup(name: string): LiveDocument | ReplicaDocument | undefined
  /** This instance took `replica`'s document over under `epoch`. */
  promote(replica: ReplicaDocument, epoch: number): Promise<void>
  /** Another instance erased `name`: purge it here. */
  purgeLocal(name: string, reason: string): void
  /** Everything loaded here (the bus may have lost messages). */
  loaded(): Iterable<LiveDocument | ReplicaDocument>
}

/** Hears the list changes every instance publishes (JSON of a `ListChange`). */
export interface ListChangeListener {
  onListChange(workspace: string, change: string): void
  /** Changes sent meanwhile may have been lost. */
  onListResync(): void
}

export interface ClusterNodeOptions {
  readonly instanceId: string
  readonly bus: ClusterBus
  readonly owners: DocumentOwners
  readonly logger: ServerLogger
  /** How long ownership outlives an owner that stopped renewing it (default 10 s). */
  readonly leaseMs?: number
}

/** A document this instance owns, with whoever follows it from elsewhere. */
interface Owned {
  readonly live: LiveDocument
  readonly epoch: number
  readonly followers: Map<string, FollowerLink>
  readonly remotes: Map<string, RemoteClient>
}

/** The answer to {@link ClusterNode.claim}. */
export type Ownership =
  | { readonly owned: true; readonly epoch: number }
  | { readonly owned: false; readonly owner: string }

/**
 * This instance's part in a cluster: it claims documents (a lease with an epoch in the
 * database), renews the leases of those it owns and gives them up on unload, serves the
 * instances that follow its documents (applying their clients' forwarded changes as those
 * clients' own, relaying commits, acks and refusals back), and keeps the documents it follows
 * pointed at their current owner, taking one over when its owner is gone.
 */
export class ClusterNode {
  readonly instanceId: string
  readonly leaseMs: number
  private readonly owned = new Map<string, Owned>()
  /** Leases being given up: a new claim of the document waits for the release. */
  private readonly releasing = new Map<string, Promise<void>>()
  /** Owner look-ups in flight per followed document. */
  private readonly resolving = new Map<string, Promise<void>>()
  private timer: ReturnType<typeof setInterval> | null = null
  private host: ClusterHost | null = null
  private lists: ListChangeListener | null = null

  constructor(private readonly options: ClusterNodeOptions) {
    this.instanceId = options.instanceId
    this.leaseMs = options.leaseMs ?? DEFAULT_OWNER_LEASE_MS
  }

  /** Starts reading the bus and the lease timer. */
  async start(host: ClusterHost): Promise<void> {
    this.host = host
    await this.options.bus.start(
      this.instanceId,
      (bytes) => this.onBusBytes(bytes),
      () => this.onResync(),
    )
    this.timer = setInterval(() => this.tick(), Math.max(100, Math.floor(this.leaseMs / 3)))
    this.timer.unref()
  }

  /** Stops the timer and the bus, after giving up every lease this instance holds. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await Promise.allSettled([...this.releasing.values()])
    await this.options.bus.stop()
  }

  send(to: string, message: BusMessage): void {
    this.options.bus.send(to, encodeBusMessage(message))
  }

  /** Tells every instance (this one too) that `doc` was erased. */
  async announcePurge(doc: string, reason: string): Promise<void> {
    await this.options.bus.broadcast(
      encodeBusMessage({ kind: BusKinds.Purge, from: this.instanceId, doc, reason }),
    )
  }

  /** Where list changes heard on the bus go (the server's list hub). */
  listenToLists(listener: ListChangeListener): void {
    this.lists = listener
  }

  /** Hands a list change of `workspace` to every instance (this one too), in call order. */
  async publishListChange(workspace: string, change: string): Promise<void> {
    await this.options.bus.broadcast(
      encodeBusMessage({
        kind: BusKinds.ListChange,
        from: this.instanceId,
        doc: workspace,
        change,
      }),
    )
  }

  /** Takes `doc` for this instance if nobody else holds it, after any release of it here. */
  async claim(doc: string): Promise<Ownership> {
    await this.releasing.get(doc)
    const claim = await this.options.owners.claim(doc, this.instanceId, this.leaseMs)
    return claim.claimed
      ? { owned: true, epoch: claim.epoch }
      : { owned: false, owner: claim.owner }
  }

  /** `live` was loaded under `epoch`: renew its lease while it stays loaded. */
  ownerLoaded(live: LiveDocument, epoch: number): void {
    this.owned.set(live.name, { live, epoch, followers: new Map(), remotes: new Map() })
  }

  /** `live` was unloaded (or failed): give its lease up. */
  ownerUnloaded(live: LiveDocument): void {
    const entry = this.owned.get(live.name)
    if (entry === undefined || entry.live !== live) return
    this.owned.delete(live.name)
    for (const link of [...entry.followers.values()]) link.close()
    const released = this.options.owners
      .release(live.name, this.instanceId, entry.epoch)
      .catch((error: unknown) => {
        // The lease runs out by itself.
        this.options.logger.warn('releasing a document lease failed', {
          doc: live.name,
          ...errorContext(error),
        })
      })
      .finally(() => {
        if (this.releasing.get(live.name) === released) this.releasing.delete(live.name)
      })
    this.releasing.set(live.name, released)
  }

  /**
   * Starts following `owner` for a new replica: resolves once it caught up, or once this
   * instance took the document over (`replica.promoted`) because `owner` did not answer.
   */
  async join(replica: ReplicaDocument, owner: string): Promise<void> {
    try {
      await withTimeout(replica.follow(owner), this.leaseMs)
    } catch {
      await withTimeout(this.resolve(replica), this.leaseMs * 3).catch(() => {
        throw new CardfileError(
          ErrorCodes.Unavailable,
          `${replica.name}: no instance could serve it; try again`,
        )
      })
    }
  }

  /** Gives up a lease taken for a load that failed. */
  async giveUp(doc: string, epoch: number): Promise<void> {
    await this.options.owners.release(doc, this.instanceId, epoch).catch(() => undefined)
  }

  /** Finds `replica`'s owner again: follows whoever holds it, or takes it over. */
  resolve(replica: ReplicaDocument): Promise<void> {
    let running = this.resolving.get(replica.name)
    if (running !== undefined) return running
    running = this.findOwner(replica).finally(() => {
      this.resolving.delete(replica.name)
    })
    this.resolving.set(replica.name, running)
    return running
  }

  private async findOwner(replica: ReplicaDocument): Promise<void> {
    for (let attempt = 0; !replica.destroyed && replica.promoted === null; attempt++) {
      try {
        const ownership = await this.claim(replica.name)
        if (replica.destroyed) return
        if (ownership.owned) {
          await this.host?.promote(replica, ownership.epoch)
          return
        }
        await withTimeout(replica.follow(ownership.owner), this.leaseMs)
        return
      } catch (error) {
        this.options.logger.debug('finding a document owner failed, retrying', {
          doc: replica.name,
          ...errorContext(error),
        })
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 1000)))
      }
    }
  }

  private onBusBytes(bytes: Uint8Array): void {
    let message: BusMessage
    try {
      message = decodeBusMessage(bytes)
    } catch (error) {
      this.options.logger.warn('an unreadable bus message was dropped', errorContext(error))
      return
    }
    try {
      this.onBusMessage(message)
    } catch (error) {
      this.options.logger.error('handling a bus message failed', {
        doc: message.doc,
        ...errorContext(error),
      })
    }
  }

  private onBusMessage(message: BusMessage): void {
    switch (message.kind) {
      case BusKinds.Purge:
        this.host?.purgeLocal(message.doc, message.reason)
        return
      case BusKinds.ListChange:
        this.lists?.onListChange(message.doc, message.change)
        return
      case BusKinds.FollowAck:
      case BusKinds.Relay:
      case BusKinds.Direct:
      case BusKinds.Close:
      case BusKinds.HostDone: {
        const replica = this.host?.lookup(message.doc)
        if (replica instanceof ReplicaDocument) replica.onOwnerMessage(message)
        return
      }
      default:
        this.onFollowerMessage(message)
    }
  }

  /** A message from an instance that follows (or wants to follow) one of our documents. */
  private onFollowerMessage(message: BusMessage): void {
    const entry = this.owned.get(message.doc)
    const live = entry?.live
    if (entry === undefined || live === undefined || live.failed || live.destroyed) {
      if (message.kind !== BusKinds.Unfollow && message.kind !== BusKinds.ConnectionGone) {
        this.send(message.from, {
          kind: BusKinds.FollowAck,
          from: this.instanceId,
          doc: message.doc,
          owned: false,
        })
      }
      return
    }
    switch (message.kind) {
      case BusKinds.Follow: {
        this.link(entry, message.from).heardAt = performance.now()
        this.send(message.from, {
          kind: BusKinds.FollowAck,
          from: this.instanceId,
          doc: message.doc,
          owned: true,
        })
        return
      }
      case BusKinds.Unfollow: {
        const link = entry.followers.get(message.from)
        if (link !== undefined) this.unlink(entry, link)
        return
      }
      case BusKinds.Forward: {
        this.link(entry, message.from).heardAt = performance.now()
        const key = `${message.from}/${message.connection}`
        let remote = entry.remotes.get(key)
        if (remote === undefined) {
          remote = new RemoteClient(
            message.from,
            message.connection,
            live.name,
            this.instanceId,
            message.actor,
            (to, m) => this.send(to, m),
          )
          entry.remotes.set(key, remote)
        }
        remote.actor = message.actor
        remote.lastSeq = Math.max(remote.lastSeq, message.seq)
        const changes = live.changesSeen
        try {
          live.applyClientUpdate(remote, message.update)
        } catch (error) {
          this.options.logger.debug('a forwarded update was malformed', errorContext(error))
          remote.close(CloseCodes.BadRequest)
          return
        }
        if (live.changesSeen === changes) {
          // Nothing new (a resent or empty update): no commit will ack it, so ack it here once
          // everything in memory with it is stored.
          const ack = encodeDurableAck(Y.encodeStateVector(live.doc))
          const seq = message.seq
          void live.settled().then(() => remote.acknowledge(seq, ack))
        }
        return
      }
      case BusKinds.Awareness: {
        const link = this.link(entry, message.from)
        link.heardAt = performance.now()
        for (const { id, present } of presenceChanges(message.update)) {
          if (present) link.presenceIds.add(id)
          else link.presenceIds.delete(id)
        }
        live.applyPeerAwareness(link, message.update)
        return
      }
      case BusKinds.ConnectionGone:
        entry.remotes.delete(`${message.from}/${message.connection}`)
        return
      case BusKinds.HostChange: {
        const actor = message.actor ?? { userId: 'cardfile-server', role: 'system' as const }
        live
          .transactAsHost(actor, (doc) => Y.applyUpdate(doc, message.update))
          .then(
            () => '',
            (error: unknown) =>
              error instanceof CardfileError
                ? `${error.code}\n${error.message}`
                : `internal\n${String(error)}`,
          )
          .then((error) =>
            this.send(message.from, {
              kind: BusKinds.HostDone,
              from: this.instanceId,
              doc: message.doc,
              request: message.request,
              error,
            }),
          )
        return
      }
      default:
        return
    }
  }

  private link(entry: Owned, instance: string): FollowerLink {
    let link = entry.followers.get(instance)
    if (link === undefined) {
      link = new FollowerLink(
        instance,
        entry.live.name,
        this.instanceId,
        (to, m) => this.send(to, m),
        (closed) => this.unlink(entry, closed),
      )
      entry.followers.set(instance, link)
      entry.live.attachPeer(link)
    }
    return link
  }

  private unlink(entry: Owned, link: FollowerLink): void {
    if (entry.followers.get(link.instance) !== link) return
    entry.followers.delete(link.instance)
    for (const [key, remote] of entry.remotes) {
      if (remote.instance === link.instance) entry.remotes.delete(key)
    }
    entry.live.removePeerPresence(link, [...link.presenceIds])
    entry.live.detachPeer(link)
  }

  /** Renews leases, forgets silent followers, and checks on the owners of followed documents. */
  private tick(): void {
    const now = performance.now()
    const silence = this.leaseMs
    for (const entry of this.owned.values()) {
      const { live, epoch } = entry
      for (const link of [...entry.followers.values()]) {
        if (now - link.heardAt > silence) this.unlink(entry, link)
      }
      this.options.owners.renew(live.name, this.instanceId, epoch, this.leaseMs).then(
        (renewed) => {
          if (renewed || this.owned.get(live.name) !== entry) return
          this.options.logger.warn('lost the lease of a document, giving it up', {
            doc: live.name,
          })
          live.revoke(fenced(live.name))
          this.ownerUnloaded(live)
        },
        (error: unknown) => {
          // Storage did not answer: appends are refused once the lease ran out anyway.
          this.options.logger.debug('renewing a document lease failed', {
            doc: live.name,
            ...errorContext(error),
          })
        },
      )
    }
    for (const doc of this.host?.loaded() ?? []) {
      if (!(doc instanceof ReplicaDocument) || doc.destroyed || doc.promoted !== null) continue
      if (doc.owner === null || now - doc.heardAt > (this.leaseMs * 2) / 3) {
        void this.resolve(doc)
      } else {
        doc.heartbeat()
      }
    }
  }

  /** The bus may have lost messages: followed documents catch up from storage and resend. */
  private onResync(): void {
    this.lists?.onListResync()
    for (const doc of this.host?.loaded() ?? []) {
      if (!(doc instanceof ReplicaDocument) || doc.destroyed || doc.promoted !== null) continue
      doc.owner = null
      void this.resolve(doc)
    }
  }
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
