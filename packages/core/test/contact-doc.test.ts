import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { ContactDoc, ConversationDoc, valueLabel } from '../src/index'
import type { Message } from '../src/index'
import {
  NOW,
  admin,
  agent,
  bot,
  codeThrownBy,
  crm,
  system,
  withSettings,
  workspace,
} from './helpers'

describe('ContactDoc', () => {
  const setup = () => {
    const { schema } = workspace()
    const contact = new ContactDoc(new Y.Doc(), 'c1')
    return { schema, view: schema.view(), contact }
  }

  it('writes custom values with provenance and reads them back', () => {
    const { view, contact } = setup()
    contact.setValue('plan', 'gold', agent, view, NOW)
    contact.setValue('account_id', 'AC-1', bot, view, NOW + 1)
    expect(contact.read().custom).toEqual({
      plan: { value: 'gold', by: { role: 'agent', userId: 'alan', at: NOW } },
      account_id: { value: 'AC-1', by: { role: 'bot', userId: 'robo', at: NOW + 1 } },
    })
  })

  it('clears a value with null, keeping who cleared it in the document', () => {
    const { view, contact } = setup()
    contact.setValue('plan', 'gold', agent, view, NOW)
    contact.setValue('plan', null, admin, view, NOW + 5)
    expect(contact.read().custom.plan).toBeUndefined()
    expect(contact.doc.getMap('custom').get('plan')).toEqual({
      value: null,
      by: { role: 'admin', userId: 'ada', at: NOW + 5 },
    })
  })

  it('refuses values that break their definition, with the field named', () => {
    const { view, contact } = setup()
    expect(codeThrownBy(() => contact.setValue('plan', 'platinum', agent, view))).toBe(
      'not-an-option',
    )
    expect(codeThrownBy(() => contact.setValue('account_id', 'x'.repeat(13), agent, view))).toBe(
      'too-long',
    )
    expect(codeThrownBy(() => contact.setValue('nope', 'x', agent, view))).toBe('unknown-attribute')
    expect(codeThrownBy(() => contact.setValue('x_handle', '@ana', admin, view))).toBe('wrong-kind')
    try {
      contact.setValue('plan', 'platinum', agent, view)
    } catch (error) {
      expect(error).toMatchObject({ field: 'custom:plan' })
    }
    expect(contact.read().custom).toEqual({})
  })

  it('refuses writes the actor may not make', () => {
    const { view, contact } = setup()
    expect(codeThrownBy(() => contact.setValue('plan', 'gold', crm, view))).toBe('forbidden')
    expect(codeThrownBy(() => contact.setValue('crm_tier', 'A', agent, view))).toBe(
      'crm-managed-locked',
    )
    expect(codeThrownBy(() => contact.setValue('crm_tier', 'A', crm, view))).toBe('ok')
    const standard = withSettings(view, { plan: 'standard' })
    expect(codeThrownBy(() => contact.setValue('plan', 'gold', agent, standard))).toBe(
      'plan-lacks-feature',
    )
  })

  it('sets VIP when allowed and refuses it when VIP is off', () => {
    const { view, contact } = setup()
    contact.setVip(true, agent, view, NOW)
    expect(contact.read().vip).toEqual({
      value: true,
      by: { role: 'agent', userId: 'alan', at: NOW },
    })
    const off = withSettings(view, { vipEnabled: false })
    expect(codeThrownBy(() => contact.setVip(false, agent, off))).toBe('vip-disabled')
    expect(codeThrownBy(() => contact.setVip(false, bot, view))).toBe('forbidden')
    expect(contact.read().vip?.value).toBe(true)
  })

  it('lets only the system write platform values and the profile', () => {
    const { view, contact } = setup()
    expect(codeThrownBy(() => contact.setPlatformValue('x_handle', '@ana', agent, view))).toBe(
      'forbidden',
    )
    contact.setPlatformValue('x_handle', '@ana', system, view, NOW)
    expect(contact.read().platform.x_handle?.value).toBe('@ana')
    expect(codeThrownBy(() => contact.setPlatformValue('plan', 'gold', system, view))).toBe(
      'wrong-kind',
    )
    contact.setPlatformValue('x_handle', null, system, view)
    expect(contact.read().platform).toEqual({})
    contact.setProfile({ channel: 'x', platformUserId: '42', hint: '@an***a', createdAt: NOW })
    expect(contact.read().profile).toEqual({
      channel: 'x',
      platformUserId: '42',
      hint: '@an***a',
      createdAt: NOW,
    })
  })

  it('reads malformed entries as absent', () => {
    const { contact } = setup()
    contact.doc.getMap('custom').set('plan', { value: 3, by: { role: 'agent' } })
    contact.doc.getMap('flags').set('vip', 'yes')
    contact.doc.getMap('profile').set('channel', 'fax')
    expect(contact.read()).toEqual({ id: 'c1', profile: null, platform: {}, custom: {}, vip: null })
  })

  it('notifies once per transaction and caches reads between changes', () => {
    const { view, contact } = setup()
    let calls = 0
    contact.observe(() => calls++)
    const first = contact.read()
    expect(contact.read()).toBe(first)
    contact.setValue('plan', 'pro', agent, view)
    expect(calls).toBe(1)
    expect(contact.read()).not.toBe(first)
  })

  it('labels values: the option label of a dropdown, marked when retired', () => {
    const { schema } = setup()
    schema.retireOption('plan', 'gold')
    const plan = schema.definition('plan')
    expect(valueLabel(plan, 'gold')).toEqual({ label: 'Gold', retired: true })
    expect(valueLabel(plan, 'pro')).toEqual({ label: 'Pro', retired: false })
    expect(valueLabel(plan, 'nope')).toBeNull()
    expect(valueLabel(plan, null)).toBeNull()
    expect(valueLabel(schema.definition('account_id'), 'AC-1')).toEqual({
      label: 'AC-1',
      retired: false,
    })
  })
})

describe('ConversationDoc', () => {
  const message = (id: string, at: number, author = agent): Message => ({
    id,
    direction: 'outbound',
    author: { role: author.role, userId: author.userId, at },
    text: `hello ${id}`,
    at,
    attachments: [{ id: 'f1', name: 'a.png', contentType: 'image/png', size: 10 }],
  })
  const setup = () => {
    const { schema } = workspace()
    const conversation = new ConversationDoc(new Y.Doc(), 'v1')
    conversation.init({
      contactId: 'c1',
      channel: 'sms',
      status: 'new',
      team: null,
      priority: 0,
      createdAt: NOW,
    })
    return { view: schema.view(), conversation }
  }

  it('initialises metadata and changes status, team and priority per role', () => {
    const { view, conversation } = setup()
    expect(conversation.meta()?.status).toBe('new')
    conversation.setStatus('pending', agent, view)
    conversation.setTeam('vip-desk', admin, view)
    conversation.setPriority(3, system, view)
    expect(conversation.meta()).toMatchObject({ status: 'pending', team: 'vip-desk', priority: 3 })
    expect(codeThrownBy(() => conversation.setTeam('x', agent, view))).toBe('forbidden')
    expect(codeThrownBy(() => conversation.setStatus('resolved', crm, view))).toBe('forbidden')
    expect(codeThrownBy(() => conversation.setPriority(Number.NaN, admin, view))).toBe(
      'invalid-value',
    )
  })

  it('is null until initialised', () => {
    expect(new ConversationDoc(new Y.Doc(), 'v2').meta()).toBeNull()
  })

  it('orders messages by time, then id, and keeps them immutable', () => {
    const { view, conversation } = setup()
    conversation.addMessage(message('m2', NOW + 10), agent, view)
    conversation.addMessage(message('m1', NOW + 10))
    conversation.addMessage(message('m0', NOW + 20))
    expect(conversation.messages().map((m) => m.id)).toEqual(['m1', 'm2', 'm0'])
    expect(codeThrownBy(() => conversation.addMessage(message('m1', NOW)))).toBe('immutable-field')
  })

  it('refuses messages from the CRM, in another author’s name, or malformed', () => {
    const { view, conversation } = setup()
    expect(codeThrownBy(() => conversation.addMessage(message('m1', NOW, crm), crm, view))).toBe(
      'forbidden',
    )
    expect(
      codeThrownBy(() => conversation.addMessage(message('m1', NOW, admin), agent, view)),
    ).toBe('provenance-mismatch')
    expect(
      codeThrownBy(() =>
        conversation.addMessage({ ...message('m1', NOW), text: 42 } as unknown as Message),
      ),
    ).toBe('invalid-value')
    expect(conversation.messages()).toEqual([])
  })
})
