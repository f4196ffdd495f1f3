import type { DomainEvent, NewDomainEvent } from './domain-event'
import type { EventStore } from './event-store'

interface ConsumerRow {
  cursor: number
  owner: string | null
  leaseUntil: number
  seenAt: number
}

/** The in-memory event store of the memory backend, written by its document store. */
export interface MemoryEventStore extends EventStore {
  /** Appends events synchronously (the memory document store's commit). */
  appendNow(events: readonly NewDomainEvent[]): void
}

/**
 * An event log held in memory (tests and the memory backend).
 *
 * @example
 * const events = createMemoryEventStore()
 * await events.publish([{ type: 'contact.erased', workspace: 'demo', subject: 'c1', ... }])
 */
export function createMemoryEventStore(now: () => number = Date.now): MemoryEventStore {
  let log: DomainEvent[] = []
  let seq = 0
  const consumers = new Map<string, ConsumerRow>()

  const appendNow = (events: readonly NewDomainEvent[]): void => {
    for (const event of events) log.push({ ...event, seq: ++seq } as DomainEvent)
  }

  const claimNow = (name: string, owner: string, leaseMs: number): { cursor: number } | null => {
    const at = now()
    const row = consumers.get(name)
    if (row === undefined) {
      consumers.set(name, { cursor: seq, owner, leaseUntil: at + leaseMs, seenAt: at })
      return { cursor: seq }
    }
    if (row.owner !== owner && row.leaseUntil > at) return null
    row.owner = owner
    row.leaseUntil = at + leaseMs
    row.seenAt = at
    return { cursor: row.cursor }
  }

  return {
    appendNow,
    async publish(events) {
      appendNow(events)
    },
    async read(after, limit) {
      const out: DomainEvent[] = []
      for (const event of log) {
        if (event.seq <= after) continue
        out.push(event)
        if (out.length >= limit) break
      }
      return out
    },
    async claim(name, owner, leaseMs) {
      return claimNow(name, owner, leaseMs)
    },
    async claimAll(names, owner, leaseMs) {
      return names.map((name) => claimNow(name, owner, leaseMs))
    },
    async advance(name, owner, to, leaseMs) {
      const row = consumers.get(name)
      if (row === undefined || row.owner !== owner) return false
      const at = now()
      row.cursor = Math.max(row.cursor, to)
      row.leaseUntil = at + leaseMs
      row.seenAt = at
      return true
    },
    async release(leases, owner) {
      for (const { name, cursor } of leases) {
        const row = consumers.get(name)
        if (row?.owner !== owner) continue
        row.cursor = Math.max(row.cursor, cursor)
        row.owner = null
        row.leaseUntil = 0
      }
    },
    async prune({ activeWithinMs, maxAgeMs }) {
      const at = now()
      let floor = seq
      for (const row of consumers.values()) {
        if (row.seenAt >= at - activeWithinMs) floor = Math.min(floor, row.cursor)
      }
      const before = log.length
      log = log.filter((e) => e.seq > floor && e.at >= at - maxAgeMs)
      return before - log.length
    },
    async forgetSubjects(workspace, subjects) {
      const gone = new Set(subjects)
      log = log.filter(
        (e) => e.workspace !== workspace || !gone.has(e.subject) || e.type === 'contact.erased',
      )
    },
  }
}
