import type { EventActor, NewDomainEvent } from '../events/domain-event'
import { MAX_GROUP_SIZE } from './link-groups'

/** A contact whose normalised matching value one transaction changes. */
export interface MatchChange {
  readonly id: string
  readonly before: string | null
  readonly after: string | null
}

/** A manual record as automatic linking reads it. */
export interface ManualRecord {
  readonly a: string
  readonly b: string
  readonly kind: 'link' | 'unlink'
  readonly subject: string
}

/** The automatic link events of one transaction, read around its writes. */
export interface AutoLinkTracker {
  /** After the writes: the events to write in the same transaction. */
  finish(actor: EventActor | null, at: number): NewDomainEvent[]
}

/** Contact ids by matching value: the members of each value's class (up to the cap + 1). */
export type ValueClasses = ReadonlyMap<string, readonly string[]>

/**
 * The matching values whose classes a transaction must read before and after it writes:
 * every value a changed contact leaves or takes.
 *
 * @example
 * matchValuesOf([{ id: 'c1', before: null, after: 'ana@x.org' }]) // ['ana@x.org']
 */
export function matchValuesOf(changes: readonly MatchChange[]): string[] {
  const values = new Set<string>()
  for (const c of changes) {
    if (c.before !== null) values.add(c.before)
    if (c.after !== null) values.add(c.after)
  }
  return [...values].sort()
}

/** What {@link autoLinkEvents} computes from. */
export interface AutoLinkInput {
  readonly workspace: string
  readonly changes: readonly MatchChange[]
  /** The classes of `matchValuesOf(changes)` as they stood before the transaction's writes. */
  readonly before: ValueClasses
  /** The same classes after them. */
  readonly after: ValueClasses
  /** Manual records that name any member of those classes. */
  readonly records: readonly ManualRecord[]
  /** Who made the change (null: the server, as a re-link). */
  readonly actor: EventActor | null
  readonly at: number
  /** Largest class that links (default `MAX_GROUP_SIZE`): a value shared by more is no person. */
  readonly maxClass?: number
}

const pairKey = (x: string, y: string): string => (x < y ? `${x}\u0000${y}` : `${y}\u0000${x}`)

/**
 * The automatic links and unlinks one transaction makes by changing contacts' matching values,
 * as `contact.linked` events (`source: 'match'`, kind `link` or `unlink`), one per pair whose
 * automatic edge appeared or went. Two contacts are linked automatically when they share a
 * matching value (in a class of at most `maxClass` contacts) and neither is detached from that
 * value (an `unlink` record names it as subject against another contact of the class); a pair
 * with a manual `link` record is linked whatever the values, so it gets no event, and a class
 * over the cap before or after the change gets none either. The subject
 * is the contact whose change made the edge (the smaller id when both changed): webhooks hear
 * it once, whichever instance committed it, as the events are written in the transaction.
 *
 * @example
 * autoLinkEvents({ workspace: 'demo', changes: [{ id: 'c2', before: null, after: 'ana@x.org' }], before, after, records: [], actor: null, at: Date.now() })
 * // [{ type: 'contact.linked', subject: 'c2', data: { other: 'c1', kind: 'link', source: 'match' }, ... }]
 */
export function autoLinkEvents(input: AutoLinkInput): NewDomainEvent[] {
  const cap = input.maxClass ?? MAX_GROUP_SIZE
  const changed = new Set(input.changes.map((c) => c.id))
  const manualLinks = new Set<string>()
  const unlinksBy = new Map<string, string[]>()
  for (const r of input.records) {
    if (r.kind === 'link') manualLinks.add(pairKey(r.a, r.b))
    else {
      const other = r.subject === r.a ? r.b : r.a
      unlinksBy.set(r.subject, [...(unlinksBy.get(r.subject) ?? []), other])
    }
  }
  // A class over the cap before or after is left out whole: it links no one, and crossing the
  // cap must not announce the end of a million pairs.
  const crowded = new Set(
    [...input.before, ...input.after].filter(([, m]) => m.length > cap).map(([v]) => v),
  )
  /** The members of each class that link. */
  const live = (classes: ValueClasses): Map<string, Set<string>> => {
    const result = new Map<string, Set<string>>()
    for (const [value, members] of classes) {
      if (crowded.has(value)) continue
      const set = new Set(members)
      result.set(
        value,
        new Set(members.filter((m) => !(unlinksBy.get(m) ?? []).some((o) => set.has(o)))),
      )
    }
    return result
  }
  const before = live(input.before)
  const after = live(input.after)
  const edges = (from: Map<string, Set<string>>, to: Map<string, Set<string>>) => {
    // Pairs of a class in `to` with a member that was not live in the same class in `from`.
    const pairs = new Map<string, readonly [string, string]>()
    for (const [value, members] of to) {
      const earlier = from.get(value) ?? new Set<string>()
      for (const x of members) {
        if (earlier.has(x)) continue
        for (const y of members) {
          if (y !== x) pairs.set(pairKey(x, y), [x, y])
        }
      }
    }
    return pairs
  }
  const added = edges(before, after)
  const removed = edges(after, before)
  const events: NewDomainEvent[] = []
  const emit = (pairs: Map<string, readonly [string, string]>, kind: 'link' | 'unlink') => {
    for (const [key, [x, y]] of [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      // Linked before and after (both moved to one class together), or linked by hand anyway.
      if ((kind === 'link' ? removed : added).has(key) || manualLinks.has(key)) continue
      const subject = changed.has(x) && changed.has(y) ? (x < y ? x : y) : changed.has(y) ? y : x
      events.push({
        type: 'contact.linked',
        workspace: input.workspace,
        subject,
        actor: input.actor,
        data: { other: subject === x ? y : x, kind, source: 'match' },
        at: input.at,
      })
    }
  }
  emit(added, 'link')
  emit(removed, 'unlink')
  return events
}

/**
 * Who made a commit, as its other events name it (they all name the commit's actor); null when
 * it announced nothing else.
 *
 * @example
 * actorOfCommit(append.events) // { userId: 'ana', role: 'agent' }
 */
export const actorOfCommit = (events: readonly NewDomainEvent[] | undefined): EventActor | null =>
  events?.[0]?.actor ?? null
