const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Returns `next`, but reuses `prev` (or parts of it) wherever they are structurally equal, so
 * unchanged data keeps its identity across reads. That is what lets a row that shows attribute
 * B skip rendering when only attribute A changed (structural sharing, as in TanStack Query).
 */
export function replaceEqualDeep<T>(prev: unknown, next: T): T {
  if (Object.is(prev, next)) return prev as T
  const bothArrays = Array.isArray(prev) && Array.isArray(next)
  if (!bothArrays && !(isPlainObject(prev) && isPlainObject(next))) return next
  const prevRecord = prev as Record<string, unknown>
  const nextRecord = next as Record<string, unknown>
  const prevKeys = Object.keys(prevRecord)
  const nextKeys = Object.keys(nextRecord)
  let equalItems = 0
  const copy: Record<string, unknown> | unknown[] = bothArrays ? [] : {}
  for (const key of nextKeys) {
    const value = replaceEqualDeep(prevRecord[key], nextRecord[key])
    ;(copy as Record<string, unknown>)[key] = value
    if (key in prevRecord && value === prevRecord[key]) equalItems++
  }
  if (prevKeys.length === nextKeys.length && equalItems === prevKeys.length) return prev as T
  // Keep the frozen-ness of core's read models: readers must not mutate shared snapshots.
  return (Object.isFrozen(next) ? Object.freeze(copy) : copy) as T
}
