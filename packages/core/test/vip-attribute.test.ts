import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  PLATFORM_ATTRIBUTES,
  SchemaDoc,
  VIP_ATTRIBUTE_ID,
  attributeKey,
  authorizeChanges,
  ensureVipDefinition,
} from '../src/index'
import type { Actor, Refusal } from '../src/index'
import { admin, changesOf, policy, system, workspace } from './helpers'

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

/** A hostile or ordinary replica's raw write to the workspace's schema, as the server judges it. */
function judgeSchema(actor: Actor, write: (client: Y.Doc) => void): Refusal[] {
  const { doc, schema } = workspace()
  const { changes, read } = changesOf('schema', doc, write)
  return authorizeChanges(changes, policy(actor, 'demo/schema', schema.view(), read))
}

const codes = (refusals: Refusal[]) => refusals.map((r) => `${r.key} ${r.code}`).sort()

describe('VIP as an attribute', () => {
  it('is a standard attribute at the end of a new workspace, switched on, with alias vip', () => {
    const { schema } = workspace()
    const vip = schema.definition(VIP_ATTRIBUTE_ID)
    expect(vip).toMatchObject({
      kind: 'standard',
      type: 'flag',
      label: 'VIP',
      alias: 'vip',
      visible: true,
      retired: false,
      crmManaged: false,
      lookup: false,
    })
    const ids = schema.definitions().map((d) => d.id)
    expect(ids.indexOf('vip')).toBe(PLATFORM_ATTRIBUTES.length)
    // Custom attributes created after it follow it.
    expect(ids.slice(-3)).toEqual(['account_id', 'plan', 'crm_tier'])
  })

  it('is added once to a schema written before VIP was an attribute, after what it holds', () => {
    const doc = new Y.Doc()
    const schema = new SchemaDoc(doc)
    schema.createAttribute({ id: 'tier', label: 'VIP', type: 'text', alias: 'vip' })
    expect(schema.definition(VIP_ATTRIBUTE_ID)).toBeUndefined()

    expect(ensureVipDefinition(doc)).toBe(true)
    // Its usual label and alias were taken by a custom attribute: it takes others.
    expect(schema.definition(VIP_ATTRIBUTE_ID)).toMatchObject({
      label: 'VIP contact',
      alias: 'vip_contact',
      kind: 'standard',
    })
    expect(schema.definitions().map((d) => d.id)).toEqual(['tier', 'vip'])
    const before = Y.encodeStateVector(doc)
    expect(ensureVipDefinition(doc)).toBe(false)
    expect(Y.encodeStateVector(doc)).toEqual(before)
    schema.destroy()
  })

  it('shows in the panel only while switched on in the list and VIP is on for the workspace', () => {
    const { schema } = workspace()
    const shown = () => schema.visibleDefinitions('sms').some((d) => d.id === 'vip')
    expect(shown()).toBe(true)
    schema.setVisible('vip', false)
    expect(shown()).toBe(false)
    schema.setVisible('vip', true)
    schema.updateSettings({ vipEnabled: false })
    expect(shown()).toBe(false)
    schema.updateSettings({ vipEnabled: true })
    expect(shown()).toBe(true)
    const business = workspace('business').schema
    expect(business.visibleDefinitions().some((d) => d.id === 'vip')).toBe(false)
  })

  it('takes a place in the admin order, a label and an alias like any attribute', () => {
    const { schema } = workspace()
    schema.moveAttribute('vip', { before: 'x_user_id' })
    expect(schema.definitions()[0]?.id).toBe('vip')
    schema.reorder(['plan', 'vip'])
    const ids = schema.definitions().map((d) => d.id)
    expect(ids.indexOf('plan')).toBeLessThan(ids.indexOf('vip'))
    schema.updateAttribute('vip', { label: 'Key account', alias: 'is_vip' })
    expect(schema.definition('vip')).toMatchObject({ label: 'Key account', alias: 'is_vip' })
  })

  it('refuses to retire VIP, make it CRM-managed or a lookup, give it options, or reuse its id', () => {
    const { schema } = workspace()
    expect(codeOf(() => schema.retireAttribute('vip'))).toBe('invalid-definition')
    expect(codeOf(() => schema.updateAttribute('vip', { crmManaged: true }))).toBe(
      'invalid-definition',
    )
    expect(codeOf(() => schema.updateAttribute('vip', { lookup: true }))).toBe('invalid-definition')
    expect(codeOf(() => schema.addOption('vip', { label: 'Gold' }))).toBeDefined()
    expect(codeOf(() => schema.updateAttribute('plan', { alias: 'vip' }))).toBe('duplicate-alias')
    const fresh = new SchemaDoc(new Y.Doc())
    expect(codeOf(() => fresh.createAttribute({ id: 'vip', label: 'Very', type: 'text' }))).toBe(
      'invalid-definition',
    )
    expect(codeOf(() => fresh.createAttribute({ label: 'Flag', type: 'flag' }))).toBe(
      'invalid-definition',
    )
    fresh.destroy()
  })

  it('lets an admin replica place, rename and switch VIP, and refuses what would change what it is', () => {
    expect(
      judgeSchema(admin, (client) => {
        const schema = new SchemaDoc(client)
        schema.moveAttribute('vip', { before: 'x_user_id' })
        schema.updateAttribute('vip', { label: 'Key account', alias: 'key' })
        schema.setVisible('vip', false)
        schema.destroy()
      }),
    ).toEqual([])
    const hostile = judgeSchema(admin, (client) => {
      const attributes = client.getMap('attributes')
      attributes.set(attributeKey('vip', 'crmManaged'), true)
      attributes.set(attributeKey('vip', 'retired'), true)
      attributes.set(attributeKey('vip', 'type'), 'text')
      // A second standard attribute of the admin's own making.
      attributes.set(attributeKey('gold', 'kind'), 'standard')
      attributes.set(attributeKey('gold', 'type'), 'flag')
      attributes.set(attributeKey('gold', 'label'), 'Gold')
    })
    expect(codes(hostile)).toEqual([
      'gold:kind forbidden',
      'gold:label forbidden',
      'gold:type forbidden',
      'vip:crmManaged forbidden',
      'vip:retired forbidden',
      'vip:type forbidden',
    ])
    // The system (the server's seeding) may write it.
    const doc = new Y.Doc()
    const { changes, read } = changesOf('schema', doc, (client) => {
      ensureVipDefinition(client)
    })
    expect(
      authorizeChanges(
        changes,
        policy(system, 'demo/schema', new SchemaDoc(new Y.Doc()).view(), read),
      ),
    ).toEqual([])
  })
})
