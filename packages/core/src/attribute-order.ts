import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'
import { CardfileError, ErrorCodes } from './errors'

/*
 * Order of attributes (and of dropdown options) is a fractional-index key per entry, never a
 * Y.Array: each entry has exactly one key, so concurrent moves can neither duplicate nor lose
 * an entry. Two replicas moving different entries to the same place can pick the same key;
 * ties sort by id, so every replica still agrees, and a later move into such a tie re-keys the
 * tied run (see `planMove`).
 */

/** Anything placed by an order key. */
export interface Ordered {
  readonly id: string
  readonly order: string
}

/** Where to move an entry: just before or just after another entry. */
export type MoveTarget = { readonly before: string } | { readonly after: string }

/** Fractional-index keys: a letter head, then base-62 digits (what the library generates). */
const ORDER_KEY_PATTERN = /^[A-Za-z][0-9A-Za-z]*$/

// Plain code-unit comparison: fractional-indexing keys are ASCII and compare that way.
const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Total order of entries: by key, then by id.
 *
 * @example
 * [{ id: 'b', order: 'a0' }, { id: 'a', order: 'a0' }].sort(compareByOrder) // a, then b
 */
export function compareByOrder(a: Ordered, b: Ordered): number {
  return compareStrings(a.order, b.order) || compareStrings(a.id, b.id)
}

/**
 * Returns a sorted copy.
 *
 * @example
 * sortByOrder(definitions).map((d) => d.id)
 */
export function sortByOrder<T extends Ordered>(items: Iterable<T>): T[] {
  return [...items].sort(compareByOrder)
}

/**
 * Returns true when `key` is a well-formed fractional-index key.
 *
 * @example
 * isOrderKey('a0') // true
 * isOrderKey('') // false
 */
export function isOrderKey(key: unknown): key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) return false
  // The library checks the head and the length of the integer part but not that every character
  // is a base-62 digit: a key such as 'a0~' would pass, sort after 'a0z', and make keys planned
  // next to it land in the wrong place ('a0V' "between" 'a0~' and 'a1').
  if (!ORDER_KEY_PATTERN.test(key)) return false
  try {
    // The library validates its arguments; it exports no validator of its own.
    generateKeyBetween(key, null)
    return true
  } catch {
    return false
  }
}

/**
 * A key strictly between two keys (null means "the start" or "the end").
 * Throws `invalid-value` when `before` is not below `after` (equal keys have no key between
 * them; {@link planMove} re-keys such ties instead).
 *
 * @example
 * keyBetween(null, null) // 'a0'
 * keyBetween('a0', 'a1') // 'a0V'
 */
export function keyBetween(before: string | null, after: string | null): string {
  if (before !== null && after !== null && before >= after) {
    throw new CardfileError(
      ErrorCodes.InvalidValue,
      `no order key between "${before}" and "${after}"`,
    )
  }
  try {
    return generateKeyBetween(before, after)
  } catch (error) {
    throw new CardfileError(ErrorCodes.InvalidValue, `bad order key: ${String(error)}`)
  }
}

/**
 * `n` ascending keys for a fresh order (deterministic: the same `n` gives the same keys).
 *
 * @example
 * keysForReorder(3) // ['a0', 'a1', 'a2']
 */
export function keysForReorder(n: number): string[] {
  return generateNKeysBetween(null, null, n)
}

/** The keys to write: entry id to its new key. */
export type OrderPlan = Map<string, string>

function rekeyAll(ids: readonly string[], items: readonly Ordered[]): OrderPlan {
  const current = new Map(items.map((i) => [i.id, i.order]))
  const keys = keysForReorder(ids.length)
  const plan: OrderPlan = new Map()
  ids.forEach((id, i) => {
    const key = keys[i]!
    if (current.get(id) !== key) plan.set(id, key)
  })
  return plan
}

/**
 * Plans moving entry `id` just before or after another entry. Returns the keys to write:
 * usually one, more when the destination sits inside a run of equal keys (the run is re-keyed
 * so the moved entry lands exactly where asked), all of them when stored keys are malformed.
 * Throws `unknown-attribute` when either id is not among `items`.
 *
 * @example
 * planMove([{ id: 'a', order: 'a0' }, { id: 'b', order: 'a1' }], 'b', { before: 'a' })
 * // Map { 'b' => 'Zz' }
 */
export function planMove(items: readonly Ordered[], id: string, target: MoveTarget): OrderPlan {
  const targetId = 'before' in target ? target.before : target.after
  const sorted = sortByOrder(items)
  if (!sorted.some((i) => i.id === id)) {
    throw new CardfileError(ErrorCodes.UnknownAttribute, `unknown entry "${id}"`)
  }
  if (!sorted.some((i) => i.id === targetId)) {
    throw new CardfileError(ErrorCodes.UnknownAttribute, `unknown entry "${targetId}"`)
  }
  if (targetId === id) return new Map()
  const rest = sorted.filter((i) => i.id !== id)
  const targetIndex = rest.findIndex((i) => i.id === targetId)
  const at = 'before' in target ? targetIndex : targetIndex + 1
  const desired = [...rest.slice(0, at).map((i) => i.id), id, ...rest.slice(at).map((i) => i.id)]
  if (desired.every((d, i) => sorted[i]?.id === d)) return new Map()

  if (!sorted.every((i) => isOrderKey(i.order))) return rekeyAll(desired, items)

  const lo = rest[at - 1]?.order ?? null
  const hi = rest[at]?.order ?? null
  if (lo === null || hi === null || lo < hi) return new Map([[id, keyBetween(lo, hi)]])

  // lo === hi: the destination is inside a run of equal keys (left by concurrent moves).
  // Re-key the whole run plus the moved entry between the keys around the run.
  let first = at - 1
  while (first > 0 && rest[first - 1]!.order === lo) first--
  let last = at
  while (last < rest.length - 1 && rest[last + 1]!.order === lo) last++
  const below = rest[first - 1]?.order ?? null
  const above = rest[last + 1]?.order ?? null
  const run = [
    ...rest.slice(first, at).map((i) => i.id),
    id,
    ...rest.slice(at, last + 1).map((i) => i.id),
  ]
  const keys = generateNKeysBetween(below, above, run.length)
  return new Map(run.map((runId, i) => [runId, keys[i]!]))
}

/**
 * Plans a reorder. `ids` lists entries in their new order; entries not listed keep their
 * places and the listed ones fill the places the listed ones held. Throws `unknown-attribute`
 * for an unknown id and `invalid-value` for a repeated one.
 *
 * @example
 * planReorder(definitions, ['email', 'plan', 'x_handle'])
 */
export function planReorder(items: readonly Ordered[], ids: readonly string[]): OrderPlan {
  const known = new Set(items.map((i) => i.id))
  const listed = new Set<string>()
  for (const id of ids) {
    if (!known.has(id))
      throw new CardfileError(ErrorCodes.UnknownAttribute, `unknown entry "${id}"`)
    if (listed.has(id)) throw new CardfileError(ErrorCodes.InvalidValue, `"${id}" is listed twice`)
    listed.add(id)
  }
  const sorted = sortByOrder(items)
  let next = 0
  const desired = sorted.map((i) => (listed.has(i.id) ? ids[next++]! : i.id))
  const byId = new Map(items.map((i) => [i.id, i]))
  const inOrder = desired.every((id, i) => {
    if (i === 0) return true
    const prev = byId.get(desired[i - 1]!)!
    return compareByOrder(prev, byId.get(id)!) < 0
  })
  if (inOrder) return new Map()
  return rekeyAll(desired, items)
}
