import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  CardfileError,
  SchemaDoc,
  compareByOrder,
  isOrderKey,
  keyBetween,
  keysForReorder,
  planMove,
  planReorder,
  sortByOrder,
} from '../src/index'
import type { Ordered } from '../src/index'

const ids = (items: readonly Ordered[]) => sortByOrder(items).map((i) => i.id)

const apply = (items: Ordered[], plan: Map<string, string>): Ordered[] =>
  items.map((i) => ({ id: i.id, order: plan.get(i.id) ?? i.order }))

describe('ordering keys', () => {
  it('sorts by key, then by id', () => {
    const items = [
      { id: 'c', order: 'a1' },
      { id: 'b', order: 'a0' },
      { id: 'a', order: 'a1' },
    ]
    expect(items.sort(compareByOrder).map((i) => i.id)).toEqual(['b', 'a', 'c'])
  })

  it('makes ascending keys and keys strictly between two keys', () => {
    const keys = keysForReorder(5)
    expect([...keys].sort()).toEqual(keys)
    expect(new Set(keys).size).toBe(5)
    const mid = keyBetween(keys[1]!, keys[2]!)
    expect(mid > keys[1]! && mid < keys[2]!).toBe(true)
    expect(keyBetween(null, keys[0]!) < keys[0]!).toBe(true)
    expect(keyBetween(keys[4]!, null) > keys[4]!).toBe(true)
  })

  it('refuses to make a key between equal or inverted keys', () => {
    expect(() => keyBetween('a0', 'a0')).toThrow(CardfileError)
    expect(() => keyBetween('a1', 'a0')).toThrow(CardfileError)
  })

  it('tells well-formed keys from malformed ones', () => {
    expect(isOrderKey('a0')).toBe(true)
    expect(isOrderKey(keyBetween('a0', 'a1'))).toBe(true)
    for (const bad of ['', 'a', 'a00', '!!', 42, null]) expect(isOrderKey(bad)).toBe(false)
  })
})

describe('planMove', () => {
  const items: Ordered[] = keysForReorder(4).map((order, i) => ({ id: 'abcd'[i]!, order }))

  it('moves an entry before or after another with one key', () => {
    const before = planMove(items, 'd', { before: 'b' })
    expect(before.size).toBe(1)
    expect(ids(apply(items, before))).toEqual(['a', 'd', 'b', 'c'])
    const after = planMove(items, 'a', { after: 'd' })
    expect(ids(apply(items, after))).toEqual(['b', 'c', 'd', 'a'])
    expect(ids(apply(items, planMove(items, 'c', { before: 'a' })))).toEqual(['c', 'a', 'b', 'd'])
  })

  it('writes nothing when the entry is already there', () => {
    expect(planMove(items, 'b', { after: 'a' }).size).toBe(0)
    expect(planMove(items, 'b', { before: 'c' }).size).toBe(0)
    expect(planMove(items, 'b', { before: 'b' }).size).toBe(0)
  })

  it('refuses unknown entries', () => {
    expect(() => planMove(items, 'z', { before: 'a' })).toThrow(/unknown entry/)
    expect(() => planMove(items, 'a', { before: 'z' })).toThrow(/unknown entry/)
  })

  it('re-keys a run of equal keys to land exactly between two tied entries', () => {
    // What two replicas leave behind when they moved b and c to the same place concurrently.
    const tied: Ordered[] = [
      { id: 'a', order: 'a0' },
      { id: 'b', order: 'a0V' },
      { id: 'c', order: 'a0V' },
      { id: 'e', order: 'a0V' },
      { id: 'd', order: 'a1' },
    ]
    const plan = planMove(tied, 'd', { after: 'b' })
    expect(plan.size).toBeGreaterThan(1)
    const moved = apply(tied, plan)
    expect(ids(moved)).toEqual(['a', 'b', 'd', 'c', 'e'])
    // Every key is distinct after the re-key, and entries outside the run kept theirs.
    expect(new Set(moved.map((i) => i.order)).size).toBe(moved.length)
    expect(moved.find((i) => i.id === 'a')!.order).toBe('a0')
  })

  it('re-keys everything when stored keys are malformed', () => {
    const broken = [
      { id: 'a', order: 'a0' },
      { id: 'b', order: '!!' },
      { id: 'c', order: 'a1' },
    ]
    const plan = planMove(broken, 'a', { after: 'c' })
    const moved = apply(broken, plan)
    expect(moved.every((i) => isOrderKey(i.order))).toBe(true)
    expect(ids(moved)).toEqual(['b', 'c', 'a'])
  })

  it('refuses keys with characters outside base 62, which the library lets through', () => {
    for (const bad of ['a0~', 'a~', 'a0 ', 'a0\u00e9', 'b00~~']) expect(isOrderKey(bad)).toBe(false)
  })

  it('moves an entry exactly where asked when a neighbour holds a key with a foreign character', () => {
    // 'a0~' sorts after 'a0z'; the library "between" 'a0~' and 'a1' answers 'a0V', below 'a0~'.
    const hostile = [
      { id: 'a', order: 'a0' },
      { id: 'b', order: 'a0~' },
      { id: 'c', order: 'a1' },
    ]
    const moved = apply(hostile, planMove(hostile, 'a', { after: 'b' }))
    expect(ids(moved)).toEqual(['b', 'a', 'c'])
    expect(moved.every((i) => isOrderKey(i.order))).toBe(true)
  })
})

describe('planReorder', () => {
  const items: Ordered[] = keysForReorder(4).map((order, i) => ({ id: 'abcd'[i]!, order }))

  it('puts the listed entries in the given order', () => {
    expect(ids(apply(items, planReorder(items, ['d', 'c', 'b', 'a'])))).toEqual([
      'd',
      'c',
      'b',
      'a',
    ])
  })

  it('keeps unlisted entries in their places', () => {
    expect(ids(apply(items, planReorder(items, ['d', 'b'])))).toEqual(['a', 'd', 'c', 'b'])
  })

  it('writes nothing for the current order and refuses unknown or repeated ids', () => {
    expect(planReorder(items, ['a', 'b', 'c', 'd']).size).toBe(0)
    expect(() => planReorder(items, ['a', 'z'])).toThrow(/unknown entry/)
    expect(() => planReorder(items, ['a', 'a'])).toThrow(/listed twice/)
  })
})

describe('concurrent moves in the schema', () => {
  const replicas = () => {
    const a = new Y.Doc()
    const schemaA = new SchemaDoc(a)
    for (const label of ['One', 'Two', 'Three', 'Four']) {
      schemaA.createAttribute({ id: label.toLowerCase(), label, type: 'text' })
    }
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    return { a, b, schemaA, schemaB: new SchemaDoc(b) }
  }
  const sync = (a: Y.Doc, b: Y.Doc) => {
    const fromA = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b))
    const fromB = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a))
    Y.applyUpdate(b, fromA)
    Y.applyUpdate(a, fromB)
  }
  const order = (schema: SchemaDoc) => schema.definitions().map((d) => d.id)

  it('converges when two admins move different attributes to the same place', () => {
    const { a, b, schemaA, schemaB } = replicas()
    schemaA.moveAttribute('three', { after: 'one' })
    schemaB.moveAttribute('four', { after: 'one' })
    sync(a, b)
    expect(order(schemaA)).toEqual(order(schemaB))
    // Same key for both: ties break by id.
    expect(order(schemaA)).toEqual(['one', 'four', 'three', 'two'])
    // A later move between the tied entries lands exactly there.
    schemaA.moveAttribute('two', { after: 'four' })
    sync(a, b)
    expect(order(schemaB)).toEqual(['one', 'four', 'two', 'three'])
    expect(order(schemaA)).toEqual(order(schemaB))
  })

  it('converges when two admins move the same attribute to different places', () => {
    const { a, b, schemaA, schemaB } = replicas()
    schemaA.moveAttribute('one', { after: 'four' })
    schemaB.moveAttribute('one', { after: 'two' })
    sync(a, b)
    expect(order(schemaA)).toEqual(order(schemaB))
    expect([...order(schemaA)].sort()).toEqual(['four', 'one', 'three', 'two'])
  })

  it('converges when two admins reorder the whole list concurrently', () => {
    const { a, b, schemaA, schemaB } = replicas()
    schemaA.reorder(['four', 'three', 'two', 'one'])
    schemaB.reorder(['two', 'one', 'four', 'three'])
    schemaB.moveAttribute('three', { before: 'two' })
    sync(a, b)
    expect(order(schemaA)).toEqual(order(schemaB))
    expect(new Set(order(schemaA)).size).toBe(4)
  })
})
