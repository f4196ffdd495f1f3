import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  CHANNELS,
  ContactDoc,
  PLATFORM_ATTRIBUTES,
  SchemaDoc,
  isChannelId,
  isValidId,
  platformAttributeIdsFor,
  seedWorkspace,
} from '../src/index'
import { codeThrownBy, workspace } from './helpers'

describe('channel catalogue', () => {
  it('lists the seven channels and the platform attributes each fills', () => {
    expect(CHANNELS.map((c) => c.id)).toEqual([
      'x',
      'instagram',
      'facebook',
      'whatsapp',
      'sms',
      'email',
      'webchat',
    ])
    expect(platformAttributeIdsFor('x')).toEqual(['x_user_id', 'x_handle', 'x_display_name'])
    expect(platformAttributeIdsFor('sms')).toEqual(['phone_number'])
    expect(platformAttributeIdsFor('webchat')).toContain('email')
    expect(isChannelId('email')).toBe(true)
    expect(isChannelId('fax')).toBe(false)
  })

  it('holds a shared platform attribute once, with all its channels', () => {
    expect(PLATFORM_ATTRIBUTES.filter((a) => a.id === 'phone_number')).toEqual([
      {
        id: 'phone_number',
        label: 'Phone number',
        alias: 'phone_number',
        channels: ['whatsapp', 'sms'],
      },
    ])
    expect(PLATFORM_ATTRIBUTES.find((a) => a.id === 'email')?.channels).toEqual([
      'email',
      'webchat',
    ])
    expect(PLATFORM_ATTRIBUTES.every((a) => isValidId(a.id))).toBe(true)
  })
})

describe('seedWorkspace', () => {
  it('writes every platform attribute and the default settings', () => {
    const doc = new Y.Doc()
    seedWorkspace(doc)
    const schema = new SchemaDoc(doc)
    // The platform attributes, then VIP, the standard attribute.
    expect(schema.definitions().map((d) => d.id)).toEqual([
      ...PLATFORM_ATTRIBUTES.map((a) => a.id),
      'vip',
    ])
    expect(schema.definition('phone_number')).toMatchObject({
      kind: 'platform',
      type: 'text',
      channels: ['whatsapp', 'sms'],
      channelVisibility: { whatsapp: true, sms: true },
      crmManaged: false,
    })
    expect(schema.settings()).toEqual({
      vipEnabled: true,
      vipTeam: null,
      vipPriorityBoost: 1,
      matchingAttribute: null,
      agentsMayEditCrm: false,
      plan: 'advanced',
    })
  })

  it('changes nothing when run again, except a plan it is given', () => {
    const doc = new Y.Doc()
    seedWorkspace(doc, { plan: 'business' })
    const before = Y.encodeStateVector(doc)
    seedWorkspace(doc)
    expect(Y.encodeStateVector(doc)).toEqual(before)
    seedWorkspace(doc, { plan: 'enterprise' })
    expect(new SchemaDoc(doc).settings().plan).toBe('enterprise')
  })
})

describe('SchemaDoc', () => {
  it('creates custom attributes at the end, trimmed, with generated ids and aliases', () => {
    const { schema } = workspace()
    const created = schema.createAttribute({
      label: '  Customer tier ',
      type: 'dropdown',
      options: [{ label: 'Bronze' }, { label: 'Silver' }],
    })
    expect(created.label).toBe('Customer tier')
    expect(created.alias).toBe('customer_tier')
    expect(isValidId(created.id)).toBe(true)
    expect(created.options.map((o) => o.label)).toEqual(['Bronze', 'Silver'])
    expect(schema.definitions().at(-1)?.id).toBe(created.id)
  })

  it('refuses invalid attributes without writing anything', () => {
    const { doc, schema } = workspace()
    const before = Y.encodeStateVector(doc)
    expect(codeThrownBy(() => schema.createAttribute({ label: 'plan', type: 'text' }))).toBe(
      'duplicate-label',
    )
    expect(
      codeThrownBy(() =>
        schema.createAttribute({ label: 'Size', type: 'dropdown', options: [{ label: 'S' }] }),
      ),
    ).toBe('too-few-options')
    expect(codeThrownBy(() => schema.createAttribute({ label: ' ', type: 'text' }))).toBe(
      'invalid-label',
    )
    expect(
      codeThrownBy(() => schema.createAttribute({ id: 'plan', label: 'Other', type: 'text' })),
    ).toBe('invalid-definition')
    expect(Y.encodeStateVector(doc)).toEqual(before)
  })

  it('updates, retires and restores attributes, refusing a duplicate label on restore', () => {
    const { schema } = workspace()
    schema.updateAttribute('account_id', { label: 'Account', lookup: true, maxLength: 20 })
    expect(schema.definition('account_id')).toMatchObject({
      label: 'Account',
      lookup: true,
      maxLength: 20,
    })
    expect(codeThrownBy(() => schema.updateAttribute('x_handle', { crmManaged: true }))).toBe(
      'platform-not-crm-managed',
    )
    expect(codeThrownBy(() => schema.updateAttribute('nope', { label: 'x' }))).toBe(
      'unknown-attribute',
    )
    schema.retireAttribute('plan')
    expect(schema.visibleDefinitions().some((d) => d.id === 'plan')).toBe(false)
    schema.createAttribute({ id: 'plan2', label: 'Plan', type: 'text' })
    expect(codeThrownBy(() => schema.retireAttribute('plan', false))).toBe('duplicate-label')
  })

  it('switches custom attributes globally and platform attributes per channel', () => {
    const { schema } = workspace()
    schema.setVisible('account_id', false)
    expect(schema.visibleDefinitions('sms').some((d) => d.id === 'account_id')).toBe(false)
    schema.setVisible('phone_number', false, 'sms')
    expect(schema.visibleDefinitions('sms').map((d) => d.id)).not.toContain('phone_number')
    expect(schema.visibleDefinitions('whatsapp').map((d) => d.id)).toContain('phone_number')
    expect(schema.visibleDefinitions().map((d) => d.id)).toContain('phone_number')
    expect(codeThrownBy(() => schema.setVisible('phone_number', false))).toBe('invalid-value')
    expect(codeThrownBy(() => schema.setVisible('phone_number', false, 'x'))).toBe('invalid-value')
  })

  it('shows platform attributes only on their channels and custom ones everywhere', () => {
    const { schema } = workspace()
    expect(schema.visibleDefinitions('x').map((d) => d.id)).toEqual([
      'x_user_id',
      'x_handle',
      'x_display_name',
      'vip',
      'account_id',
      'plan',
      'crm_tier',
    ])
  })

  it('moves and reorders attributes', () => {
    const { schema } = workspace()
    schema.moveAttribute('plan', { before: 'x_user_id' })
    expect(schema.definitions()[0]?.id).toBe('plan')
    schema.moveAttribute('plan', { after: 'crm_tier' })
    expect(schema.definitions().at(-1)?.id).toBe('plan')
    schema.reorder(['crm_tier', 'account_id'])
    const order = schema.definitions().map((d) => d.id)
    expect(order.indexOf('crm_tier')).toBeLessThan(order.indexOf('account_id'))
    expect(codeThrownBy(() => schema.moveAttribute('nope', { before: 'plan' }))).toBe(
      'unknown-attribute',
    )
  })

  it('adds, renames, moves and retires options', () => {
    const { schema } = workspace()
    const platinum = schema.addOption('plan', { label: 'Platinum' })
    schema.renameOption('plan', 'gold', 'Gold (legacy)')
    schema.moveOption('plan', platinum.id, { before: 'free' })
    schema.retireOption('plan', 'gold')
    expect(schema.definition('plan')?.options).toEqual([
      expect.objectContaining({ id: platinum.id, label: 'Platinum', retired: false }),
      expect.objectContaining({ id: 'free' }),
      expect.objectContaining({ id: 'pro' }),
      expect.objectContaining({ id: 'gold', label: 'Gold (legacy)', retired: true }),
    ])
    expect(codeThrownBy(() => schema.addOption('plan', { label: 'free' }))).toBe(
      'duplicate-option-label',
    )
    expect(codeThrownBy(() => schema.renameOption('plan', 'free', 'Pro'))).toBe(
      'duplicate-option-label',
    )
    expect(codeThrownBy(() => schema.addOption('account_id', { label: 'x' }))).toBe(
      'invalid-definition',
    )
    expect(codeThrownBy(() => schema.renameOption('plan', 'nope', 'x'))).toBe('not-an-option')
    schema.retireOption('plan', 'free')
    expect(codeThrownBy(() => schema.retireOption('plan', 'pro'))).toBe('too-few-options')
  })

  it('updates settings after checking them', () => {
    const { schema } = workspace()
    schema.updateSettings({ vipEnabled: false, matchingAttribute: 'email', vipTeam: 'vip-desk' })
    expect(schema.settings()).toMatchObject({
      vipEnabled: false,
      matchingAttribute: 'email',
      vipTeam: 'vip-desk',
    })
    expect(codeThrownBy(() => schema.updateSettings({ matchingAttribute: 'nope' }))).toBe(
      'unknown-attribute',
    )
    expect(codeThrownBy(() => schema.updateSettings({ vipPriorityBoost: Number.NaN }))).toBe(
      'invalid-value',
    )
  })

  it('notifies once per transaction and returns the same snapshot between changes', () => {
    const { doc, schema } = workspace()
    const first = schema.definitions()
    expect(schema.definitions()).toBe(first)
    expect(schema.view()).toBe(schema.view())
    expect(schema.visibleDefinitions('x')).toBe(schema.visibleDefinitions('x'))
    let calls = 0
    const stop = schema.observe(() => {
      calls++
      // Listeners read the new state.
      expect(schema.definition('plan')?.label).toBe('Tier')
    })
    schema.updateAttribute('plan', { label: 'Tier', alias: 'tier' })
    expect(calls).toBe(1)
    expect(schema.definitions()).not.toBe(first)
    doc.getMap('unrelated').set('k', 1)
    expect(calls).toBe(1)
    stop()
    schema.updateAttribute('plan', { label: 'Plan' })
    expect(calls).toBe(1)
  })

  it('sees remote changes', () => {
    const { doc, schema } = workspace()
    const remote = new Y.Doc()
    Y.applyUpdate(remote, Y.encodeStateAsUpdate(doc))
    new SchemaDoc(remote).createAttribute({ id: 'remote', label: 'Remote', type: 'text' })
    let calls = 0
    schema.observe(() => calls++)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote, Y.encodeStateVector(doc)))
    expect(calls).toBe(1)
    expect(schema.definition('remote')?.label).toBe('Remote')
  })
})

describe('SchemaDoc inside an enclosing transaction', () => {
  it('sees its own writes before the enclosing transaction ends', () => {
    const doc = new Y.Doc()
    seedWorkspace(doc)
    const schema = new SchemaDoc(doc)
    schema.definitions() // warm the cache before the transaction
    doc.transact(() => {
      const created = schema.createAttribute({ id: 'plan', label: 'Plan', type: 'text' })
      expect(schema.definition('plan')).toEqual(created)
      schema.moveAttribute('plan', { before: schema.definitions()[0]!.id })
      expect(schema.definitions()[0]!.id).toBe('plan')
    })
    expect(schema.definitions()[0]!.id).toBe('plan')
  })
})

describe('ContactDoc inside an enclosing transaction', () => {
  it('reads its own writes before the enclosing transaction ends', () => {
    const schemaDoc = new Y.Doc()
    seedWorkspace(schemaDoc)
    const schema = new SchemaDoc(schemaDoc)
    schema.createAttribute({ id: 'notes', label: 'Notes', type: 'text' })
    const doc = new Y.Doc()
    const contact = new ContactDoc(doc, 'c1')
    contact.read()
    doc.transact(() => {
      contact.setValue('notes', 'hello', { userId: 'ana', role: 'admin' }, schema.view())
      expect(contact.read().custom['notes']?.value).toBe('hello')
    })
  })
})
