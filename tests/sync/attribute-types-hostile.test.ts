import {
  SchemaDoc,
  attributeKey,
  contactDocName,
  conversationDocName,
  schemaDocName,
} from '@cardfile/core'
import type { Actor } from '@cardfile/core'
import type { CardfileServer } from '@cardfile/server'
import { describe, expect, it } from 'vitest'
import { WORKSPACE, startServer } from '../client/harness'
import {
  connectHostile,
  expectRefusedEverywhere,
  seedContactAndConversation,
} from './hostile-client'
import type { HostileCase } from './hostile-client'

/*
 * A hostile client writing values of the typed attributes and rules that an SDK client would
 * refuse before sending: the server refuses each one with the code core's validation gives,
 * compensates, and neither the sender, another replica nor storage keeps anything of it.
 */

const SYSTEM: Actor = { userId: 'system', role: 'system' }
const NOW = Date.now()

/** One attribute of every new type, some with rules, a contact c1 and its conversation v1. */
async function seed(server: CardfileServer): Promise<void> {
  await server.host.transact(schemaDocName(WORKSPACE), SYSTEM, (doc) => {
    const schema = new SchemaDoc(doc)
    const colours = [
      { id: 'red', label: 'Red' },
      { id: 'blue', label: 'Blue' },
    ]
    schema.createAttribute({
      id: 'age',
      label: 'Age',
      type: 'number',
      rules: { min: '0', max: '130', decimals: 0 },
    })
    schema.createAttribute({ id: 'price', label: 'Price', type: 'number', rules: { decimals: 2 } })
    schema.createAttribute({
      id: 'renewal',
      label: 'Renewal',
      type: 'date',
      rules: { min: '2020-01-01', max: '2040-12-31' },
    })
    schema.createAttribute({ id: 'consent', label: 'Consent', type: 'checkbox' })
    schema.createAttribute({ id: 'site', label: 'Site', type: 'url' })
    schema.createAttribute({ id: 'work_email', label: 'Work email', type: 'email' })
    schema.createAttribute({ id: 'mobile', label: 'Mobile', type: 'phone' })
    schema.createAttribute({ id: 'tags', label: 'Tags', type: 'multiselect', options: colours })
    schema.createAttribute({ id: 'story', label: 'Story', type: 'longtext', maxLength: 3000 })
    schema.createAttribute({
      id: 'order_no',
      label: 'Order number',
      type: 'text',
      rules: { pattern: '^[A-Z]{2}-[0-9]{4}$', required: true, help: 'like AB-1234' },
    })
    schema.destroy()
  })
  await seedContactAndConversation(server, NOW)
}

const value = (v: unknown) => ({ value: v, by: { role: 'agent', userId: 'bo', at: NOW } })
const custom = (id: string, v: unknown, code: string): HostileCase => ({
  name: `${id} = ${JSON.stringify(v).slice(0, 40)}`,
  doc: 'contact',
  role: 'agent',
  refused: [`custom:${id}`, code],
  write: (d) => d.getMap('custom').set(id, value(v)),
})
const rules = (id: string, v: unknown, name: string): HostileCase => ({
  name,
  doc: 'schema',
  role: 'admin',
  refused: [`attributes:${id}:rules`, 'invalid-definition'],
  write: (d) => d.getMap('attributes').set(attributeKey(id, 'rules'), v),
})

const CASES: readonly HostileCase[] = [
  custom('age', 'NaN', 'type-mismatch'),
  custom('age', 'Infinity', 'type-mismatch'),
  custom('age', '1e3', 'type-mismatch'),
  custom('age', 42, 'invalid-value'),
  custom('age', '131', 'out-of-range'),
  custom('age', '-1', 'out-of-range'),
  custom('age', '30.5', 'out-of-range'),
  custom('price', '1000000000000000', 'type-mismatch'),
  custom('price', '1.999', 'out-of-range'),
  custom('renewal', '2023-02-29', 'type-mismatch'),
  custom('renewal', '2019-12-31', 'out-of-range'),
  custom('renewal', '2024-05-01T10:00:00Z', 'type-mismatch'),
  custom('consent', 'yes', 'type-mismatch'),
  custom('consent', true, 'invalid-value'),
  custom('site', 'javascript:alert(1)', 'type-mismatch'),
  custom('work_email', 'not an email', 'type-mismatch'),
  custom('mobile', '+1 415 555', 'type-mismatch'),
  custom('tags', 'red,red', 'invalid-value'),
  custom('tags', 'red,green', 'not-an-option'),
  custom('tags', ['red'], 'invalid-value'),
  custom('story', 'é'.repeat(3001), 'too-long'),
  custom('order_no', 'ab-12', 'pattern-mismatch'),
  custom('order_no', `${'A'.repeat(100_000)}`, 'too-long'),
  rules('age', { min: '10', max: '5' }, 'a minimum above the maximum'),
  rules('age', { min: '0', max: '130', default: '500' }, 'a default outside the bounds'),
  rules('age', { min: 5 }, 'a bound given as a JSON number'),
  rules('age', { pattern: '^1$' }, 'a pattern on a number'),
  rules('order_no', { pattern: '(a+)+$' }, 'a pattern that could backtrack for ever'),
  rules('order_no', { pattern: '([' }, 'a pattern that does not compile'),
  rules('order_no', { shell: 'rm -rf' }, 'an unknown rule'),
  rules('order_no', 'required', 'rules that are not an object'),
  {
    name: 'a type changed directly on an attribute',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:age:type', 'immutable-field'],
    write: (d) => d.getMap('attributes').set(attributeKey('age', 'type'), 'text'),
  },
  {
    name: 'an unknown type on a new attribute',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:money:type', 'invalid-value'],
    write: (d) => {
      const a = d.getMap('attributes')
      const props: Record<string, unknown> = {
        label: 'Money',
        kind: 'custom',
        type: 'currency',
        alias: 'money',
        channels: [],
        visible: true,
        crmManaged: false,
        lookup: false,
        retired: false,
        maxLength: 100,
        order: 'z0',
      }
      for (const [prop, v] of Object.entries(props)) a.set(`money:${prop}`, v)
    },
  },
  {
    name: 'a conversation resolved while its contact lacks a required value',
    doc: 'conversation',
    role: 'agent',
    refused: ['meta:status', 'required-missing'],
    write: (d) => d.getMap('meta').set('status', 'resolved'),
  },
]

describe('a hostile client writing typed values and rules', () => {
  for (const c of CASES) {
    it(`is refused ${c.name}; nothing of it stays anywhere`, async () => {
      const { server } = await startServer()
      await seed(server)
      const { hostile } = await expectRefusedEverywhere(server, c)
      hostile.close()
    })
  }

  it('accepts well-formed values of every type and resolves once the required one is filled', async () => {
    const { server } = await startServer()
    await seed(server)
    const hostile = await connectHostile(server, contactDocName(WORKSPACE, 'c1'), 'bo', 'agent')
    const good: Record<string, string> = {
      age: '42',
      price: '9.99',
      renewal: '2031-02-28',
      consent: 'false',
      site: 'https://example.com',
      work_email: 'ana@example.com',
      mobile: '+14155550100',
      tags: 'blue,red',
      story: 'é'.repeat(3000),
      order_no: 'AB-1234',
    }
    hostile.doc.transact(() => {
      for (const [id, v] of Object.entries(good)) hostile.doc.getMap('custom').set(id, value(v))
    })
    await expect
      .poll(() =>
        server.host.read(contactDocName(WORKSPACE, 'c1'), (d) =>
          Object.fromEntries(
            [...d.getMap('custom').entries()].map(([k, v]) => [k, (v as { value: string }).value]),
          ),
        ),
      )
      .toEqual(good)
    expect(hostile.refusals).toEqual([])

    const agent = await connectHostile(server, conversationDocName(WORKSPACE, 'v1'), 'bo', 'agent')
    agent.doc.transact(() => agent.doc.getMap('meta').set('status', 'resolved'))
    await expect
      .poll(() =>
        server.host.read(conversationDocName(WORKSPACE, 'v1'), (d) =>
          d.getMap('meta').get('status'),
        ),
      )
      .toBe('resolved')
    expect(agent.refusals).toEqual([])
    hostile.close()
    agent.close()
  })

  it('reads the contact for a resolve even when the rule came after the conversation was opened', async () => {
    const { server } = await startServer()
    await seed(server)
    const name = conversationDocName(WORKSPACE, 'v1')
    // No rule yet: opening the conversation does not load its contact.
    await server.host.transact(schemaDocName(WORKSPACE), SYSTEM, (doc) => {
      const schema = new SchemaDoc(doc)
      schema.updateAttribute('order_no', { rules: { required: false } })
      schema.destroy()
    })
    const agent = await connectHostile(server, name, 'bo', 'agent')
    await server.host.transact(schemaDocName(WORKSPACE), SYSTEM, (doc) => {
      const schema = new SchemaDoc(doc)
      schema.updateAttribute('order_no', { rules: { required: true } })
      schema.destroy()
    })
    // The first attempt may find the contact still loading (unavailable: retry); it is then
    // refused for what it lacks, and nothing of either attempt stays.
    const codes = async (): Promise<string | undefined> => {
      const seen = agent.refusals.length
      agent.doc.transact(() => agent.doc.getMap('meta').set('status', 'resolved'))
      await expect.poll(() => agent.refusals.length).toBeGreaterThan(seen)
      await expect.poll(() => agent.doc.getMap('meta').get('status')).toBe('new')
      return agent.refusals[agent.refusals.length - 1]?.code
    }
    let code = await codes()
    for (let retry = 0; retry < 5 && code === 'unavailable'; retry++) code = await codes()
    expect(code).toBe('required-missing')
    expect(agent.refusals.every((r) => ['unavailable', 'required-missing'].includes(r.code))).toBe(
      true,
    )
    expect(await server.host.read(name, (d) => d.getMap('meta').get('status'))).toBe('new')
    agent.close()
  })
})
