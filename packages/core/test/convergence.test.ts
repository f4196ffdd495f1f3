import { describe, expect, it } from 'vitest'
import { CardfileError, ContactDoc, SchemaDoc, compareByOrder, seedWorkspace } from '../src/index'
import type { Actor, ChannelId } from '../src/index'
import { Prng, TestNetwork } from './test-network'

const SEEDS = 200
const OPERATIONS = 60
const SCHEMA = 0
const CONTACT = 1
const admin: Actor = { userId: 'ada', role: 'admin' }
const agent: Actor = { userId: 'alan', role: 'agent' }

interface Replica {
  readonly schema: SchemaDoc
  readonly contact: ContactDoc
}

/**
 * One random scenario: replicas edit the schema and a contact through the typed API while the
 * network delivers in random order and replicas drop off and come back.
 */
function runScenario(seed: number) {
  const prng = new Prng(seed)
  const network = new TestNetwork(prng, 3 + (seed % 3), 2, (d, doc) => {
    if (d === SCHEMA) seedWorkspace(doc)
  })
  const replicas: Replica[] = network.replicas.map((r) => ({
    schema: new SchemaDoc(r.docs[SCHEMA]!),
    contact: new ContactDoc(r.docs[CONTACT]!, 'c1'),
  }))
  const created = new Set<string>()
  let counter = 0
  const fresh = (prefix: string) => `${prefix}${seed}_${counter++}`

  const operations: ((r: Replica) => void)[] = [
    // create a text or dropdown attribute
    ({ schema }) => {
      const id = fresh('a')
      const dropdown = prng.bool()
      schema.createAttribute({
        id,
        label: `Label ${id}`,
        type: dropdown ? 'dropdown' : 'text',
        options: dropdown
          ? [
              { id: fresh('o'), label: 'One' },
              { id: fresh('o'), label: 'Two' },
            ]
          : undefined,
      })
      created.add(id)
    },
    // move an attribute before or after another
    ({ schema }) => {
      const ids = schema.definitions().map((d) => d.id)
      const id = prng.pick(ids)
      const other = prng.pick(ids)
      schema.moveAttribute(id, prng.bool() ? { before: other } : { after: other })
    },
    ({ schema }) => {
      const ids = schema.definitions().map((d) => d.id)
      const id = prng.pick(ids)
      schema.moveAttribute(id, { after: prng.pick(ids) })
    },
    // reorder all, or a subset
    ({ schema }) => {
      const ids = prng.shuffle(schema.definitions().map((d) => d.id))
      schema.reorder(prng.bool() ? ids : ids.slice(0, prng.int(1, ids.length)))
    },
    // toggles
    ({ schema }) => {
      const def = prng.pick(schema.definitions())
      if (def.kind !== 'platform') schema.setVisible(def.id, !def.visible)
      else {
        const channel: ChannelId = prng.pick(def.channels)
        schema.setVisible(def.id, !def.channelVisibility[channel], channel)
      }
    },
    ({ schema }) => {
      const custom = schema.definitions().filter((d) => d.kind === 'custom')
      if (custom.length > 0) {
        const def = prng.pick(custom)
        schema.retireAttribute(def.id, !def.retired)
      }
    },
    ({ schema }) => schema.updateSettings({ vipEnabled: !schema.settings().vipEnabled }),
    // option edits
    ({ schema }) => {
      const dropdowns = schema.definitions().filter((d) => d.type === 'dropdown')
      if (dropdowns.length === 0) return
      const def = prng.pick(dropdowns)
      const option = prng.pick(def.options)
      switch (prng.int(0, 3)) {
        case 0:
          schema.addOption(def.id, { id: fresh('o'), label: `Option ${counter}` })
          break
        case 1:
          schema.renameOption(def.id, option.id, `Renamed ${counter++}`)
          break
        case 2:
          schema.moveOption(def.id, option.id, { before: prng.pick(def.options).id })
          break
        default:
          schema.retireOption(def.id, option.id, !option.retired)
      }
    },
    // contact value edits
    ({ schema, contact }) => {
      const custom = schema.definitions().filter((d) => d.kind === 'custom' && !d.retired)
      if (custom.length === 0) return
      const def = prng.pick(custom)
      const live = def.options.filter((o) => !o.retired)
      const value =
        prng.int(0, 5) === 0
          ? null
          : def.type === 'dropdown'
            ? prng.pick(live).id
            : `value ${counter++}`
      contact.setValue(def.id, value, prng.bool() ? admin : agent, schema.view(), seed)
    },
    ({ schema, contact }) => contact.setVip(prng.bool(), agent, schema.view(), seed),
  ]

  for (let step = 0; step < OPERATIONS; step++) {
    const roll = prng.int(0, 9)
    if (roll === 0) {
      const replica = prng.pick(network.replicas)
      if (replica.online) network.disconnect(replica)
      else network.reconnect(replica)
    } else if (roll <= 2) {
      network.deliver(prng.int(1, 6))
    } else {
      const replica = prng.pick(replicas)
      try {
        prng.pick(operations)(replica)
      } catch (error) {
        // Local refusals are part of the game (for example retiring the second-to-last
        // option); anything else is a bug.
        if (!(error instanceof CardfileError)) throw error
      }
    }
  }
  network.flush()
  return { replicas, created }
}

describe('convergence over a random network', () => {
  it(`gives every replica the same order, definitions and values (${SEEDS} seeds)`, () => {
    let schemaEdits = 0
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { replicas, created } = runScenario(seed)
      const [first, ...rest] = replicas
      const order = first!.schema.definitions().map((d) => d.id)
      const context = `seed ${seed}`
      // No duplicate and no lost id, in a sorted total order.
      expect(new Set(order).size, context).toBe(order.length)
      for (const id of created) expect(order, context).toContain(id)
      const defs = first!.schema.definitions()
      for (let i = 1; i < defs.length; i++) {
        expect(compareByOrder(defs[i - 1]!, defs[i]!), context).toBeLessThan(0)
      }
      for (const replica of rest) {
        expect(
          replica.schema.definitions().map((d) => d.id),
          context,
        ).toEqual(order)
        expect(replica.schema.definitions(), context).toEqual(defs)
        expect(replica.schema.settings(), context).toEqual(first!.schema.settings())
        expect(replica.contact.read(), context).toEqual(first!.contact.read())
      }
      schemaEdits += created.size
    }
    // The scenarios did real work (guards against a generator that silently does nothing).
    expect(schemaEdits).toBeGreaterThan(SEEDS)
  }, 120_000) // 200 seeds take ~5 s alone; leave room for a loaded CI machine

  it('would notice diverging replicas (the comparison can fail)', () => {
    const { replicas } = runScenario(7)
    replicas[1]!.schema.createAttribute({ id: 'only_here', label: 'Only here', type: 'text' })
    expect(replicas[1]!.schema.definitions()).not.toEqual(replicas[0]!.schema.definitions())
  })
})
