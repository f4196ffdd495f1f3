import { checkLimit, decodeCursor, newestPage } from '../storage/cursor'
import type { ContactIndexRow } from '../storage/index-store'
import type { ContactLinkLogEntry, ContactLinkRecord, LinkStorage } from './link-store'
import { checkRelinkChunk } from './link-store'
import type { NewDomainEvent } from '../events/domain-event'
import { autoLinkEvents, matchValuesOf } from './auto-links'
import type { AutoLinkTracker, MatchChange, ValueClasses } from './auto-links'

/** The in-memory link storage, with what an erasure of a contact needs of it. */
export interface MemoryLinkStorage extends LinkStorage {
  /** Drops the contact's records and every log entry about it (as SQLite's erasure does). */
  forgetContact(workspace: string, contactId: string): void
  /**
   * Reads the classes of the matching values `changes` touch before the caller writes them;
   * its `finish` derives the automatic link events after (see `autoLinkEvents`).
   */
  trackMatchChanges(workspace: string, changes: readonly MatchChange[]): AutoLinkTracker
}

/**
 * The in-memory {@link LinkStorage}, over the memory store's own contact rows (keyed
 * `<workspace>\0<id>`), with the same answers as the SQLite one.
 *
 * @example
 * const links = createMemoryLinkStorage(contacts, ensureOpen)
 */
export function createMemoryLinkStorage(
  contacts: Map<string, ContactIndexRow>,
  ensureOpen: () => void,
  /** Stores events (a re-link chunk's automatic links) with the change that made them. */
  announce: (events: readonly NewDomainEvent[]) => void = () => undefined,
): MemoryLinkStorage {
  const records = new Map<string, ContactLinkRecord>()
  let log: ContactLinkLogEntry[] = []
  // Never reused, also once an erasure removed entries.
  let seq = 0
  const key = (workspace: string, id: string): string => `${workspace}\u0000${id}`
  const pairKey = (workspace: string, a: string, b: string): string =>
    `${workspace}\u0000${a}\u0000${b}`

  const classesOf = (workspace: string, values: readonly string[]): ValueClasses => {
    const classes = new Map<string, string[]>(values.map((v) => [v, []]))
    for (const r of contacts.values()) {
      if (r.workspace !== workspace || r.matchValue === null) continue
      classes.get(r.matchValue)?.push(r.id)
    }
    return classes
  }
  const track = (workspace: string, changes: readonly MatchChange[]): AutoLinkTracker => {
    const real = changes.filter((c) => c.before !== c.after)
    if (real.length === 0) return { finish: () => [] }
    const values = matchValuesOf(real)
    const before = classesOf(workspace, values)
    return {
      finish(actor, at) {
        const after = classesOf(workspace, values)
        const ids = new Set([...before.values(), ...after.values()].flat())
        const manual = [...records.values()].filter(
          (r) => r.workspace === workspace && (ids.has(r.a) || ids.has(r.b)),
        )
        return autoLinkEvents({
          workspace,
          changes: real,
          before,
          after,
          records: manual,
          actor,
          at,
        })
      },
    }
  }

  return {
    trackMatchChanges: track,
    forgetContact(workspace, contactId) {
      ensureOpen()
      const about = (e: { workspace: string; a: string; b: string; subject: string }): boolean =>
        e.workspace === workspace &&
        (e.a === contactId || e.b === contactId || e.subject === contactId)
      for (const [k, r] of records) if (about(r)) records.delete(k)
      log = log.filter((e) => !about(e))
    },
    async putLink(r) {
      ensureOpen()
      records.set(pairKey(r.workspace, r.a, r.b), r)
      const { kind, ...rest } = r
      log.push({ ...rest, action: kind, seq: ++seq })
    },
    async removeLink(workspace, a, b, by, at) {
      ensureOpen()
      const k = pairKey(workspace, a, b)
      const existing = records.get(k)
      if (existing === undefined) return null
      records.delete(k)
      log.push({
        workspace,
        a,
        b,
        action: 'revert',
        subject: existing.subject,
        by,
        at,
        seq: ++seq,
      })
      return existing
    },
    async linksOf(workspace, contactIds) {
      ensureOpen()
      const ids = new Set(contactIds)
      return [...records.values()].filter(
        (r) => r.workspace === workspace && (ids.has(r.a) || ids.has(r.b)),
      )
    },
    async linkLog(workspace, contactId, q) {
      ensureOpen()
      const limit = checkLimit(q.limit)
      const after = decodeCursor(q.cursor, 'newest')
      const rows = log
        .filter((e) => e.workspace === workspace && (e.a === contactId || e.b === contactId))
        .filter((e) => after === null || e.seq < after.t)
        .reverse()
      return newestPage(rows, limit, (e) => ({ t: e.seq, i: '' }))
    },
    async contactsByIds(workspace, ids) {
      ensureOpen()
      return ids.flatMap((id) => {
        const row = contacts.get(key(workspace, id))
        return row === undefined ? [] : [row]
      })
    },
    async countContacts(workspace) {
      ensureOpen()
      let n = 0
      for (const r of contacts.values()) if (r.workspace === workspace) n += 1
      return n
    },
    async recomputeMatchValues(workspace, compute, after, limit) {
      checkRelinkChunk(limit)
      ensureOpen()
      const rows = [...contacts.values()]
        .filter((r) => r.workspace === workspace && (after === null || r.id > after))
        .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
        .slice(0, limit)
      const changes: MatchChange[] = []
      for (const r of rows) {
        const next = compute(r.values)
        if (next !== r.matchValue) changes.push({ id: r.id, before: r.matchValue, after: next })
      }
      const tracker = track(workspace, changes)
      for (const c of changes) {
        const r = contacts.get(key(workspace, c.id))
        if (r !== undefined) contacts.set(key(workspace, c.id), { ...r, matchValue: c.after })
      }
      const linked = tracker.finish(null, Date.now())
      if (linked.length > 0) announce(linked)
      return {
        processed: rows.length,
        changed: changes.length,
        last: rows.length < limit ? null : (rows.at(-1)?.id ?? null),
      }
    },
  }
}
