import { fenced } from './document-owners'
import type { DocumentFence, DocumentOwners, DocumentOwnership } from './document-owners'

/** Document owners in this process, plus the check appends run before they write. */
export interface MemoryDocumentOwners extends DocumentOwners {
  /** Throws `fenced` unless `fence` is the document's live ownership. */
  check(doc: string, fence: DocumentFence): void
}

/**
 * Document ownership in memory (the memory backend's): the same rules as the database engines,
 * for one process. Epochs keep growing per document, across releases too.
 */
export function createMemoryDocumentOwners(now: () => number = Date.now): MemoryDocumentOwners {
  const owners = new Map<string, DocumentOwnership>()
  const live = (doc: string): DocumentOwnership | null => {
    const held = owners.get(doc)
    return held !== undefined && held.leaseUntil > now() ? held : null
  }
  return {
    async claim(doc, owner, leaseMs) {
      const held = live(doc)
      if (held !== null && held.owner !== owner) return { claimed: false, ...held }
      const epoch = held?.owner === owner ? held.epoch : (owners.get(doc)?.epoch ?? 0) + 1
      const leaseUntil = now() + leaseMs
      owners.set(doc, { owner, epoch, leaseUntil })
      return { claimed: true, epoch, leaseUntil }
    },
    async renew(doc, owner, epoch, leaseMs) {
      const held = live(doc)
      if (held === null || held.owner !== owner || held.epoch !== epoch) return false
      owners.set(doc, { owner, epoch, leaseUntil: now() + leaseMs })
      return true
    },
    async release(doc, owner, epoch) {
      const held = owners.get(doc)
      // The epoch stays, so the next owner's is higher.
      if (held?.owner === owner && held.epoch === epoch) owners.set(doc, { ...held, leaseUntil: 0 })
    },
    async current(doc) {
      return live(doc)
    },
    check(doc, fence) {
      const held = live(doc)
      if (held === null || held.owner !== fence.owner || held.epoch !== fence.epoch) {
        throw fenced(doc)
      }
    },
  }
}
