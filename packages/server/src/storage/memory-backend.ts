import { randomUUID } from 'node:crypto'
import { collectedSnapshot } from './collected-snapshot'
import { CardfileError, ErrorCodes, parseDocName } from '@cardfile/core'
import { removeAttachments } from './attachments'
import { checkLimit, decodeCursor, encodeCursor } from './cursor'
import {
  checkIndexRow,
  compareNewest,
  comparePriority,
  identityTaken,
  isAfterNewest,
  isAfterPriority,
} from './index-rules'
import type { Backend } from '../backend'
import type { DocumentStore } from './document-store'
import type { ContactIndexRow, ConversationIndexRow, IndexStore, Page } from './index-store'
import { createMemoryLinkStorage } from '../linking/memory-link-storage'
import { createMemoryDeletionLog } from '../deletion/memory-deletion-log'
import { createMemoryExportStore } from '../exports/memory-export-store'
import type { BlobStore } from '../blobs/blob-store'
import { createMemoryBlobStore } from '../blobs/memory-blob-store'
import { createMemoryCrmStorage } from '../crm/memory-crm-storage'
import { createMemoryWebhookStore } from '../webhooks/memory-webhook-store'
import { createMemoryEventStore } from '../events/memory-event-store'
import { actorOfCommit } from '../linking/auto-links'
import type { AutoLinkTracker } from '../linking/auto-links'
import { createMemoryValueHistory } from '../history/memory-value-history'
import { createMemoryJobStore } from '../jobs/memory-job-store'
import { createMemoryInboundLog } from '../ingestion/inbound-log'
import { createMemoryDocumentOwners } from './memory-document-owners'
import { checkSearch } from '../search/contact-search-query'
import { searchInMemory } from '../search/memory-search'

export interface MemoryBackendOptions {
  /** A document with more updates than this is merged into its snapshot. Default 500. */
  readonly compactAfter?: number
  /** Root of attachment files, removed on erase like the SQLite store does. */
  readonly attachmentsDir?: string
  /** Where export files go. Default: in memory. */
  readonly blobs?: BlobStore
}

/** The in-memory backend: the {@link Backend} contract, nothing durable. */
export type MemoryBackend = Backend

interface StoredDoc {
  snapshot: Uint8Array | null
  updates: Uint8Array[]
}

const page = <T>(rows: readonly T[], limit: number, cursorOf: (row: T) => string): Page<T> => {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return { items, next: rows.length > limit && last !== undefined ? cursorOf(last) : null }
}

/**
 * A backend that keeps everything in memory, for fast tests of the parts above it. Same
 * promises as the SQLite backend except durability: erasure leaves tombstones, appends to an
 * erased document are refused, a channel identity belongs to one contact, pages use the same
 * cursors and order.
 *
 * @example
 * const backend = createMemoryBackend()
 * await backend.documents.append('demo/contact/c1', Y.encodeStateAsUpdate(doc))
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  const compactAfter = options.compactAfter ?? 500
  const docs = new Map<string, StoredDoc>()
  const tombstones = new Map<string, number>()
  const contacts = new Map<string, ContactIndexRow>()
  const conversations = new Map<string, ConversationIndexRow>()
  const counters = { commits: 0, appends: 0, lastCommitMs: 0, compactions: 0 }
  const owners = createMemoryDocumentOwners()
  let closed = false
  // Every instance is a new store: nothing it holds survives it.
  const generation = randomUUID()
  const events = createMemoryEventStore()
  const valueHistory = createMemoryValueHistory()

  const ensureOpen = (): void => {
    if (closed) throw new CardfileError(ErrorCodes.Internal, 'storage is closed')
  }
  const key = (workspace: string, id: string): string => `${workspace}\u0000${id}`
  const links = createMemoryLinkStorage(contacts, ensureOpen, (linked) => events.appendNow(linked))

  const compactSync = (docName: string): boolean => {
    const doc = docs.get(docName)
    if (doc === undefined || doc.updates.length === 0) return false
    const parts = doc.snapshot === null ? doc.updates : [doc.snapshot, ...doc.updates]
    doc.snapshot = collectedSnapshot(parts)
    doc.updates = []
    counters.compactions += 1
    return true
  }

  const documents: DocumentStore = {
    async load(docName) {
      ensureOpen()
      const doc = docs.get(docName)
      if (doc === undefined) return []
      return doc.snapshot === null ? [...doc.updates] : [doc.snapshot, ...doc.updates]
    },

    async append(docName, update, index, announced, fence, history) {
      ensureOpen()
      checkIndexRow(docName, index)
      if (tombstones.has(docName)) {
        throw new CardfileError(ErrorCodes.Deleted, `document ${docName} was deleted`)
      }
      if (fence !== undefined) owners.check(docName, fence)
      let tracker: AutoLinkTracker | null = null
      if (index?.kind === 'contact') {
        for (const other of contacts.values()) {
          if (
            other.workspace === index.workspace &&
            other.id !== index.id &&
            other.channel === index.channel &&
            other.platformUserId === index.platformUserId
          ) {
            throw identityTaken(index)
          }
        }
        const before = contacts.get(key(index.workspace, index.id))?.matchValue ?? null
        tracker = links.trackMatchChanges(index.workspace, [
          { id: index.id, before, after: index.matchValue },
        ])
        contacts.set(key(index.workspace, index.id), index)
      } else if (index?.kind === 'conversation') {
        conversations.set(key(index.workspace, index.id), index)
      }
      const doc = docs.get(docName) ?? { snapshot: null, updates: [] }
      docs.set(docName, doc)
      // Copy: the caller may reuse its buffer, and a stored update must not change.
      doc.updates.push(update.slice())
      if (announced !== undefined) events.appendNow(announced)
      const linked = tracker?.finish(actorOfCommit(announced), index?.updatedAt ?? Date.now()) ?? []
      if (linked.length > 0) events.appendNow(linked)
      if (history !== undefined) valueHistory.insertNow(history)
      counters.commits += 1
      counters.appends += 1
      if (doc.updates.length > compactAfter) compactSync(docName)
    },

    async isErased(docName) {
      ensureOpen()
      return tombstones.has(docName)
    },

    async erase(docNames) {
      ensureOpen()
      const at = Date.now()
      for (const docName of docNames) {
        docs.delete(docName)
        const name = parseDocName(docName)
        if (name?.kind === 'contact') contacts.delete(key(name.workspace, name.id))
        if (name?.kind === 'conversation') conversations.delete(key(name.workspace, name.id))
        if (!tombstones.has(docName)) tombstones.set(docName, at)
      }
      await removeAttachments(options.attachmentsDir, docNames)
    },

    async sealErasure() {
      // Nothing outlives a delete in memory.
      ensureOpen()
    },

    async compact(docName) {
      ensureOpen()
      return compactSync(docName)
    },
  }

  const index: IndexStore = {
    async findContact(workspace, channel, platformUserId) {
      ensureOpen()
      for (const row of contacts.values()) {
        if (
          row.workspace === workspace &&
          row.channel === channel &&
          row.platformUserId === platformUserId
        ) {
          return row
        }
      }
      return null
    },

    async findOpenConversation(workspace, contactId) {
      ensureOpen()
      const open = [...conversations.values()]
        .filter((r) => r.workspace === workspace && r.contactId === contactId)
        .filter((r) => r.status !== 'resolved')
        .sort(compareNewest)
      return open[0] ?? null
    },

    async listContacts(workspace, q) {
      ensureOpen()
      const limit = checkLimit(q.limit)
      const after = decodeCursor(q.cursor, 'newest')
      const rows = [...contacts.values()]
        .filter((r) => r.workspace === workspace)
        .filter((r) => q.vip === undefined || r.vip === q.vip)
        .filter((r) => q.matchValue === undefined || r.matchValue === q.matchValue)
        .filter((r) => after === null || isAfterNewest(r, after))
        .sort(compareNewest)
      return page(rows, limit, (r) => encodeCursor({ o: 'newest', t: r.createdAt, i: r.id }))
    },

    async searchContacts(workspace, q) {
      ensureOpen()
      return searchInMemory(contacts.values(), workspace, checkSearch(q))
    },

    async listConversations(workspace, q) {
      ensureOpen()
      const limit = checkLimit(q.limit)
      const matching = [...conversations.values()]
        .filter((r) => r.workspace === workspace)
        .filter((r) => q.contactIds === undefined || q.contactIds.includes(r.contactId))
        .filter(
          (r) =>
            q.contactGroup === undefined || contacts.get(key(workspace, r.contactId))?.vip === true,
        )
        .filter((r) => q.team === undefined || r.team === q.team)
        .filter((r) => q.status === undefined || q.status.includes(r.status))
      if (q.order === 'priority') {
        const after = decodeCursor(q.cursor, 'priority')
        const rows = matching
          .filter((r) => after === null || isAfterPriority(r, after))
          .sort(comparePriority)
        return page(rows, limit, (r) =>
          encodeCursor({ o: 'priority', p: r.priority, t: r.createdAt, i: r.id }),
        )
      }
      const after = decodeCursor(q.cursor, 'newest')
      const rows = matching
        .filter((r) => after === null || isAfterNewest(r, after))
        .sort(compareNewest)
      return page(rows, limit, (r) => encodeCursor({ o: 'newest', t: r.createdAt, i: r.id }))
    },
  }

  return {
    async generation() {
      return generation
    },
    documents,
    index,
    links,
    events,
    jobs: createMemoryJobStore(),
    inbound: createMemoryInboundLog(),
    deletionLog: createMemoryDeletionLog(async (workspace, contactId) =>
      links.forgetContact(workspace, contactId),
    ),
    valueHistory,
    owners,
    exports: createMemoryExportStore(() => contacts.values()),
    blobs: options.blobs ?? createMemoryBlobStore(),
    crm: createMemoryCrmStorage(ensureOpen),
    webhooks: createMemoryWebhookStore(ensureOpen),

    stats() {
      return { pendingAppends: 0, ...counters }
    },

    available: () => true,

    async close() {
      closed = true
    },
  }
}
