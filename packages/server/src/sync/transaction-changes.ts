import { ErrorCodes, NON_JSON_VALUE, ROOT_MAPS } from '@cardfile/core'
import type { DocKind, ErrorCode, FieldChange } from '@cardfile/core'
import * as Y from 'yjs'

/**
 * Something a transaction did that is not "key K of a root map changed" and is refused outright:
 * content in a root the layout does not have, sequence content inserted into a root map, or an
 * edit inside a nested type. `items` are deleted by the compensation.
 */
export interface StructuralViolation {
  readonly map: string
  readonly key: string
  readonly code: ErrorCode
  readonly message: string
  readonly items: readonly Y.Item[]
}

/** What one client transaction changed, gathered while Yjs still knows the old values. */
export interface TransactionChanges {
  readonly changes: FieldChange[]
  readonly violations: StructuralViolation[]
  /**
   * Keys (and roots, key null) the transaction wrote that hold nothing live afterwards and
   * changed nothing: written and deleted within it. No policy sees them, but their deleted
   * items would keep their names.
   */
  readonly vanished: Array<{ readonly map: string; readonly key: string | null }>
}

const MAX_JSON_DEPTH = 32

/** True for plain JSON: null, booleans, finite numbers, strings, arrays and plain objects. */
export function isPlainJson(value: unknown, depth = 0): boolean {
  if (depth > MAX_JSON_DEPTH) return false
  if (value === null) return true
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (Array.isArray(value)) return value.every((v) => isPlainJson(v, depth + 1))
      const proto: unknown = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return false
      return Object.values(value).every((v) => isPlainJson(v, depth + 1))
    }
    default:
      return false
  }
}

/** A value as the change policy sees it: plain JSON, or {@link NON_JSON_VALUE}. */
export const policyValue = (value: unknown): unknown =>
  value === undefined ? undefined : isPlainJson(value) ? value : NON_JSON_VALUE

/** The value a live map item holds, as the policy sees it; undefined when deleted or absent. */
export function itemValue(item: Y.Item | undefined): unknown {
  if (item === undefined || item.deleted) return undefined
  const content = item.content
  if (!(content instanceof Y.ContentAny) && !(content instanceof Y.ContentJSON)) {
    return NON_JSON_VALUE
  }
  const values = content.getContent()
  // A map entry holds exactly one value; more is a hand-made update.
  if (values.length !== 1) return NON_JSON_VALUE
  const value: unknown = values[0]
  return value === undefined ? NON_JSON_VALUE : policyValue(value)
}

/** Live items of a type's sequence part (a map's sequence part is always empty legitimately). */
function liveSequenceItems(start: Y.Item | null): Y.Item[] {
  const items: Y.Item[] = []
  for (let item = start; item !== null; item = item.right) {
    if (!item.deleted) items.push(item)
  }
  return items
}

/** Live items of a type's map part. */
function liveMapItems(entries: ReadonlyMap<string, Y.Item>): Y.Item[] {
  const items: Y.Item[] = []
  for (const item of entries.values()) if (!item.deleted) items.push(item)
  return items
}

/**
 * Reads what `tr` changed in a document of kind `kind`. Must run inside the transaction's
 * `afterTransaction` event: only then do the map events still know the old values (after the
 * transaction Yjs garbage-collects the overwritten content).
 *
 * @example
 * doc.on('afterTransaction', (tr) => {
 *   if (tr.origin === connection) collected = collectTransactionChanges(tr, 'contact')
 * })
 */
export function collectTransactionChanges(tr: Y.Transaction, kind: DocKind): TransactionChanges {
  const allowed: readonly string[] = ROOT_MAPS[kind]
  const changes: FieldChange[] = []
  const violations: StructuralViolation[] = []
  const vanished: TransactionChanges['vanished'] = []
  const nestedRoots = new Set<Y.Item>()
  const badRoots = new Set<string>()
  tr.changed.forEach((subs, type) => {
    if (type._item !== null) {
      // An edit inside a nested type: find the root map entry that holds it.
      let item: Y.Item = type._item
      while (item.parent instanceof Y.AbstractType && item.parent._item !== null) {
        item = item.parent._item
      }
      if (!item.deleted) nestedRoots.add(item)
      return
    }
    const name = Y.findRootTypeKey(type)
    if (!allowed.includes(name) || !(type instanceof Y.Map)) {
      if (badRoots.has(name)) return
      badRoots.add(name)
      const items = [...liveMapItems(type._map), ...liveSequenceItems(type._start)]
      if (items.length > 0) {
        violations.push({
          map: name,
          key: '',
          code: ErrorCodes.UnknownField,
          message: `"${name}" is not part of a ${kind} document`,
          items,
        })
      } else vanished.push({ map: name, key: null })
      return
    }
    const map: Y.Map<unknown> = type
    const keys = new Set<string>()
    for (const key of subs) {
      if (key === null) {
        const items = liveSequenceItems(map._start)
        if (items.length > 0) {
          violations.push({
            map: name,
            key: '',
            code: ErrorCodes.InvalidValue,
            message: `"${name}" holds keyed values only`,
            items,
          })
        }
      } else keys.add(key)
    }
    if (keys.size === 0) return
    const event = new Y.YMapEvent(map, tr, keys)
    const changed = event.changes.keys
    changed.forEach((change, key) => {
      changes.push({
        map: name,
        key,
        oldValue: change.action === 'add' ? undefined : policyValue(change.oldValue),
        newValue: itemValue(map._map.get(key)),
      })
    })
    for (const key of keys) {
      if (!changed.has(key) && map._map.get(key)?.deleted === true)
        vanished.push({ map: name, key })
    }
  })
  for (const item of nestedRoots) {
    const parent = item.parent
    if (!(parent instanceof Y.AbstractType)) continue
    const map = Y.findRootTypeKey(parent)
    const key = item.parentSub ?? ''
    // Already reported as a change (the nested value itself is new): the refusal handles it.
    if (changes.some((c) => c.map === map && c.key === key) || badRoots.has(map)) continue
    violations.push({
      map,
      key,
      code: ErrorCodes.InvalidValue,
      message: `values of "${map}" are plain JSON, not nested types`,
      items: [item],
    })
  }
  return { changes, violations, vanished }
}
