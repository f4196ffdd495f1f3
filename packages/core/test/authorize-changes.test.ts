import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  ContactDoc,
  ConversationDoc,
  SchemaDoc,
  authorizeChanges,
  keysForReorder,
} from '../src/index'
import type { Actor, Message, Refusal, SchemaView } from '../src/index'
import {
  NOW,
  admin,
  agent,
  bot,
  changesOf,
  crm,
  policy,
  system,
  withSettings,
  workspace,
} from './helpers'

const by = (actor: Actor, at = NOW) => ({ role: actor.role, userId: actor.userId, at })

/** Applies a hostile client's raw write to the server's copy and authorises it. */
function judge(
  kind: 'schema' | 'contact' | 'conversation',
  serverDoc: Y.Doc,
  actor: Actor,
  view: SchemaView,
  write: (client: Y.Doc) => void,
): Refusal[] {
  const name = kind === 'schema' ? 'demo/schema' : `demo/${kind}/c1`
  const { changes, read } = changesOf(kind, serverDoc, write)
  expect(changes.length).toBeGreaterThan(0)
  return authorizeChanges(changes, policy(actor, name, view, read))
}

const codes = (refusals: Refusal[]) => refusals.map((r) => `${r.map}:${r.key} ${r.code}`).sort()

describe('authorizeChanges: contacts', () => {
  const setup = (settings = {}) => {
    const { schema } = workspace('advanced', settings)
    const view = schema.view()
    return { view, contactDoc: new Y.Doc() }
  }
  const custom = (write: (map: Y.Map<unknown>) => void) => (client: Y.Doc) =>
    write(client.getMap('custom'))

  it('accepts what the SDK writes for an agent', () => {
    const { view, contactDoc } = setup()
    const refusals = judge('contact', contactDoc, agent, view, (client) => {
      const contact = new ContactDoc(client, 'c1')
      contact.setValue('plan', 'gold', agent, view, NOW)
      contact.setValue('account_id', 'AC-1', agent, view, NOW)
      contact.setVip(true, agent, view, NOW)
    })
    expect(refusals).toEqual([])
  })

  /** Raw writes judged alone on an empty contact: what each refuses, as sorted codes. */
  const rawWrites: {
    name: string
    actor: Actor
    settings?: Parameters<typeof workspace>[1]
    write: (client: Y.Doc) => void
    refused: string[]
  }[] = [
    {
      name: 'refuses an agent writing a platform value',
      actor: agent,
      write: (client) =>
        client.getMap('platform').set('x_handle', { value: '@evil', by: by(agent) }),
      refused: ['platform:x_handle forbidden'],
    },
    {
      name: 'refuses anyone but the system writing the profile',
      actor: admin,
      write: (client) => client.getMap('profile').set('hint', '@someone'),
      refused: ['profile:hint forbidden'],
    },
    {
      name: 'refuses an agent editing a CRM-managed value while agent edits are off',
      actor: agent,
      write: custom((m) => m.set('crm_tier', { value: 'A', by: by(agent) })),
      refused: ['custom:crm_tier crm-managed-locked'],
    },
    {
      name: 'accepts the same edit once agent edits of CRM-managed attributes are on',
      actor: agent,
      settings: { agentsMayEditCrm: true },
      write: custom((m) => m.set('crm_tier', { value: 'A', by: by(agent) })),
      refused: [],
    },
    {
      name: 'refuses over-long text and values of the wrong type',
      actor: agent,
      write: custom((m) => {
        m.set('account_id', { value: 'x'.repeat(13), by: by(agent) })
        m.set('plan', { value: 7, by: by(agent) })
      }),
      refused: ['custom:account_id too-long', 'custom:plan invalid-value'],
    },
    {
      name: 'refuses forged provenance: another user, another role, or a future date',
      actor: agent,
      write: (client) => {
        client
          .getMap('custom')
          .set('plan', { value: 'gold', by: { ...by(agent), userId: 'grace' } })
        client.getMap('custom').set('account_id', { value: 'AC-1', by: by(crm) })
        client.getMap('flags').set('vip', { value: true, by: by(agent, NOW + 24 * 3600_000) })
      },
      refused: [
        'custom:account_id provenance-mismatch',
        'custom:plan provenance-mismatch',
        'flags:vip provenance-mismatch',
      ],
    },
    {
      name: 'lets the system record provenance of another actor (a CRM lookup it ran)',
      actor: system,
      write: custom((m) => m.set('crm_tier', { value: 'A', by: by(crm) })),
      refused: [],
    },
    {
      name: 'refuses unknown root maps, malformed keys and nested Yjs types',
      actor: agent,
      write: (client) => {
        client.getMap('evil').set('x', 1)
        client.getMap('custom').set('bad key!', { value: 'x', by: by(agent) })
        client.getMap('flags').set('favourite', { value: true, by: by(agent) })
        client.getMap('custom').set('plan', new Y.Map())
      },
      refused: [
        'custom:bad key! unknown-field',
        'custom:plan invalid-value',
        'evil:x unknown-field',
        'flags:favourite unknown-field',
      ],
    },
    {
      name: 'refuses a raw null that would add a key for an attribute that does not exist',
      actor: agent,
      write: (client) => {
        const map = client.getMap('custom')
        for (let i = 0; i < 100; i++) map.set(`junk_${i}`, null)
        map.set('x_handle', null)
        map.set('account_id', null)
      },
      refused: [
        ...Array.from({ length: 100 }, (_, i) => `custom:junk_${i} unknown-attribute`).sort(),
        'custom:x_handle wrong-kind',
      ],
    },
  ]
  for (const { name, actor, settings, write, refused } of rawWrites) {
    it(name, () => {
      const { view, contactDoc } = setup(settings)
      expect(codes(judge('contact', contactDoc, actor, view, write))).toEqual(refused)
    })
  }

  it('refuses a dropdown value that is not an option, and a retired option', () => {
    const { schema } = workspace()
    schema.retireOption('plan', 'gold')
    const view = schema.view()
    const refusals = judge('contact', new Y.Doc(), agent, view, (client) => {
      client.getMap('custom').set('plan', { value: 'platinum', by: by(agent) })
      client.getMap('custom').set('account_id', { value: 'AC-1', by: by(agent) })
    })
    expect(refusals).toEqual([
      {
        map: 'custom',
        key: 'plan',
        code: 'not-an-option',
        message: '"platinum" is not an option of Plan',
      },
    ])
    const retired = judge(
      'contact',
      new Y.Doc(),
      agent,
      view,
      custom((m) => m.set('plan', { value: 'gold', by: by(agent) })),
    )
    expect(codes(retired)).toEqual(['custom:plan retired-option'])
  })

  it('refuses values of unknown or retired attributes and of platform ones as custom', () => {
    const { schema } = workspace()
    schema.retireAttribute('account_id')
    const refusals = judge(
      'contact',
      new Y.Doc(),
      admin,
      schema.view(),
      custom((m) => {
        m.set('ghost', { value: 'boo', by: by(admin) })
        m.set('account_id', { value: 'AC-1', by: by(admin) })
        m.set('x_handle', { value: '@ana', by: by(admin) })
      }),
    )
    expect(codes(refusals)).toEqual([
      'custom:account_id retired-attribute',
      'custom:ghost unknown-attribute',
      'custom:x_handle wrong-kind',
    ])
  })

  it('refuses VIP while VIP is off, and on a plan without VIP', () => {
    const off = setup({ vipEnabled: false })
    const refusals = judge('contact', off.contactDoc, agent, off.view, (client) =>
      client.getMap('flags').set('vip', { value: true, by: by(agent) }),
    )
    expect(codes(refusals)).toEqual(['flags:vip vip-disabled'])
    const business = withSettings(setup().view, { plan: 'business' })
    const onBusiness = judge('contact', new Y.Doc(), agent, business, (client) =>
      client.getMap('flags').set('vip', { value: true, by: by(agent) }),
    )
    expect(codes(onBusiness)).toEqual(['flags:vip plan-lacks-feature'])
  })

  it('allows clearing a custom value by delete or null, but not deleting VIP', () => {
    const { view, contactDoc } = setup()
    const contact = new ContactDoc(contactDoc, 'c1')
    contact.setValue('plan', 'gold', agent, view, NOW)
    contact.setValue('account_id', 'AC-1', agent, view, NOW)
    contact.setVip(true, agent, view, NOW)
    const refusals = judge('contact', contactDoc, agent, view, (client) => {
      client.getMap('custom').delete('plan')
      client.getMap('custom').set('account_id', null)
      client.getMap('flags').delete('vip')
    })
    expect(codes(refusals)).toEqual(['flags:vip invalid-value'])
    // A bot may not clear a CRM-managed value it could not write either.
    contact.setValue('crm_tier', 'A', system, view, NOW)
    const botDelete = judge(
      'contact',
      contactDoc,
      bot,
      view,
      custom((m) => m.delete('crm_tier')),
    )
    expect(codes(botDelete)).toEqual(['custom:crm_tier crm-managed-locked'])
  })
})

describe('authorizeChanges: schema', () => {
  const judgeSchema = (actor: Actor, write: (schema: SchemaDoc, client: Y.Doc) => void) => {
    const { doc, schema } = workspace()
    return judge('schema', doc, actor, schema.view(), (client) =>
      write(new SchemaDoc(client), client),
    )
  }

  it('accepts what the SDK writes for an admin', () => {
    const refusals = judgeSchema(admin, (schema) => {
      schema.createAttribute({
        id: 'size',
        label: 'Size',
        type: 'dropdown',
        options: [
          { id: 's', label: 'S' },
          { id: 'm', label: 'M' },
        ],
      })
      schema.addOption('plan', { id: 'vip', label: 'VIP' })
      schema.moveAttribute('plan', { before: 'x_user_id' })
      schema.setVisible('phone_number', false, 'sms')
      schema.updateSettings({ vipEnabled: false, matchingAttribute: 'email' })
      schema.retireAttribute('account_id')
    })
    expect(refusals).toEqual([])
  })

  it('refuses an admin marking an attribute CRM-managed on a plan without the CRM', () => {
    const judgeOn = (plan: 'business' | 'advanced', write: (schema: SchemaDoc) => void) => {
      const { doc, schema } = workspace(plan)
      return judge('schema', doc, admin, schema.view(), (client) => write(new SchemaDoc(client)))
    }
    const mark = judgeOn('business', (schema) =>
      schema.updateAttribute('account_id', { crmManaged: true }),
    )
    expect(codes(mark)).toEqual(['attributes:account_id:crmManaged plan-lacks-feature'])
    // A new definition is all or nothing: none of it stands.
    const created = judgeOn('business', (schema) =>
      schema.createAttribute({ id: 'tier', label: 'Tier', type: 'text', crmManaged: true }),
    )
    expect(created.length).toBeGreaterThan(1)
    expect(new Set(created.map((r) => r.code))).toEqual(new Set(['plan-lacks-feature']))
    // Unmarking and ordinary edits stay open; on a plan with the CRM, marking is fine.
    const unmark = judgeOn('business', (schema) =>
      schema.updateAttribute('crm_tier', { crmManaged: false, label: 'Tier' }),
    )
    expect(unmark).toEqual([])
    const onAdvanced = judgeOn('advanced', (schema) =>
      schema.updateAttribute('account_id', { crmManaged: true }),
    )
    expect(onAdvanced).toEqual([])
  })

  it('refuses an agent editing the schema', () => {
    const refusals = judgeSchema(agent, (schema) => {
      schema.updateAttribute('plan', { label: 'Tier' })
      schema.updateSettings({ vipEnabled: false })
    })
    expect(codes(refusals)).toEqual([
      'attributes:plan:label forbidden',
      'settings:vipEnabled forbidden',
    ])
  })

  /** An admin's raw writes to the schema: what each refuses, as sorted codes. */
  const rawAdminWrites: { name: string; write: (client: Y.Doc) => void; refused: string[] }[] = [
    {
      name: 'refuses an admin changing the plan',
      write: (client) => client.getMap('settings').set('plan', 'enterprise'),
      refused: ['settings:plan forbidden'],
    },
    {
      name: 'refuses changing the kind, type or channels of an existing attribute',
      write: (client) => {
        client.getMap('attributes').set('plan:type', 'text')
        client.getMap('attributes').set('account_id:kind', 'platform')
      },
      refused: [
        'attributes:account_id:kind immutable-field',
        'attributes:plan:type immutable-field',
      ],
    },
    {
      name: 'refuses a definition made invalid by a partial write, with every change to it',
      // Retiring an option through raw writes leaves the dropdown with one live option.
      write: (client) => {
        client.getMap('options').set('plan:free:retired', true)
        client.getMap('options').set('plan:pro:retired', true)
        client.getMap('attributes').set('plan:label', 'Tier')
        client.getMap('attributes').set('account_id:label', 'Account')
      },
      refused: [
        'attributes:plan:label too-few-options',
        'options:plan:free:retired too-few-options',
        'options:plan:pro:retired too-few-options',
      ],
    },
    {
      name: 'refuses an incomplete new definition and options of a missing attribute',
      write: (client) => {
        client.getMap('attributes').set('half:label', 'Half')
        client.getMap('options').set('ghost:o1:label', 'Boo')
      },
      refused: [
        'attributes:half:label invalid-definition',
        'options:ghost:o1:label invalid-definition',
      ],
    },
    {
      name: 'refuses deleting schema keys, unknown props and visibility on a foreign channel',
      write: (client) => {
        client.getMap('attributes').delete('plan:label')
        client.getMap('attributes').set('plan:colour', 'red')
        client.getMap('attributes').set('phone_number:visible:x', false)
        client.getMap('settings').set('theme', 'dark')
      },
      refused: [
        'attributes:phone_number:visible:x invalid-value',
        'attributes:plan:colour unknown-field',
        'attributes:plan:label invalid-value',
        'settings:theme unknown-field',
      ],
    },
    {
      name: 'refuses ill-typed settings and a matching attribute that does not exist',
      write: (client) => {
        client.getMap('settings').set('vipEnabled', 'yes')
        client.getMap('settings').set('matchingAttribute', 'ghost')
      },
      refused: [
        'settings:matchingAttribute unknown-attribute',
        'settings:vipEnabled invalid-value',
      ],
    },
  ]
  for (const { name, write, refused } of rawAdminWrites) {
    it(name, () => {
      expect(codes(judgeSchema(admin, (_schema, client) => write(client)))).toEqual(refused)
    })
  }

  it('refuses an admin creating a platform attribute', () => {
    const refusals = judgeSchema(admin, (_schema, client) => {
      const base = new SchemaDoc(client).definition('x_handle')!
      const attributes = client.getMap('attributes')
      for (const [prop, value] of Object.entries({
        ...base,
        label: 'Fake',
        alias: 'fake',
        channels: ['x'],
      })) {
        if (prop === 'id' || prop === 'options' || prop === 'channelVisibility') continue
        attributes.set(`fake:${prop}`, value)
      }
    })
    expect(refusals.length).toBeGreaterThan(0)
    expect(refusals.find((r) => r.key === 'fake:kind')?.code).toBe('forbidden')
    // All or nothing: every key of the refused definition is refused.
    expect(refusals.every((r) => r.key.startsWith('fake:'))).toBe(true)
    expect(refusals).toHaveLength(12)
  })

  it('judges schema changes the same with definitions read before or after the change', () => {
    const hostile = (client: Y.Doc) => {
      const attributes = client.getMap('attributes')
      attributes.set('account_id:kind', 'platform')
      attributes.set('account_id:channels', ['sms'])
      attributes.set('plan:label', 'Tier')
    }
    const { doc, schema } = workspace()
    const pre = schema.view()
    const { changes, read } = changesOf('schema', doc, hostile)
    const post = schema.view()
    expect(post).not.toBe(pre)
    const before = authorizeChanges(changes, policy(admin, 'demo/schema', pre, read))
    const after = authorizeChanges(changes, policy(admin, 'demo/schema', post, read))
    expect(codes(before).map((c) => c.split(' ')[0])).toEqual([
      'attributes:account_id:channels',
      'attributes:account_id:kind',
    ])
    expect(codes(after).map((c) => c.split(' ')[0])).toEqual(
      codes(before).map((c) => c.split(' ')[0]),
    )
  })

  it('refuses a duplicate label, a CRM-managed platform attribute and a bad order key', () => {
    const refusals = judgeSchema(admin, (_schema, client) => {
      client.getMap('attributes').set('account_id:label', 'plan')
      client.getMap('attributes').set('x_handle:crmManaged', true)
      client.getMap('attributes').set('crm_tier:order', 'not a key')
    })
    expect(codes(refusals)).toEqual([
      'attributes:account_id:label duplicate-label',
      'attributes:crm_tier:order invalid-value',
      'attributes:x_handle:crmManaged forbidden',
    ])
    const asSystem = judgeSchema(system, (_schema, client) =>
      client.getMap('attributes').set('x_handle:crmManaged', true),
    )
    expect(codes(asSystem)).toEqual(['attributes:x_handle:crmManaged platform-not-crm-managed'])
  })

  it('judges one transaction of thousands of new definitions in linear time, duplicates found', () => {
    const n = 4000
    const { doc, schema } = workspace()
    const { changes, read } = changesOf('schema', doc, (client) => {
      const attributes = client.getMap('attributes')
      const keys = keysForReorder(n)
      for (let i = 0; i < n; i++) {
        const id = `bulk_${i}`
        // the last two share a label, and the one before them takes an existing alias
        // (labels near the longest allowed: every comparison normalises both)
        const label = i >= n - 2 ? 'Twin' : `${'Bulk '.repeat(19)}${i}`
        const props: Record<string, unknown> = {
          label,
          kind: 'custom',
          type: 'text',
          alias: i === n - 3 ? 'plan' : id,
          channels: [],
          visible: true,
          crmManaged: false,
          lookup: false,
          retired: false,
          maxLength: 100,
          order: keys[i],
        }
        for (const [prop, value] of Object.entries(props)) attributes.set(`${id}:${prop}`, value)
      }
    })
    const started = performance.now()
    const refusals = authorizeChanges(changes, policy(admin, 'demo/schema', schema.view(), read))
    // Comparing every definition with every other took about 3 s here; linear is about 0.3 s.
    expect(performance.now() - started).toBeLessThan(1500)
    const refused = new Set(refusals.map((r) => `${r.key.split(':')[0]} ${r.code}`))
    expect([...refused].sort()).toEqual([
      `bulk_${n - 3} duplicate-alias`,
      `bulk_${n - 2} duplicate-label`,
      `bulk_${n - 1} duplicate-label`,
    ])
    expect(refusals).toHaveLength(3 * 11)
  })

  it('accepts a matching attribute created in the same transaction', () => {
    const refusals = judgeSchema(admin, (schema) => {
      schema.createAttribute({ id: 'customer_id', label: 'Customer id', type: 'text' })
      schema.updateSettings({ matchingAttribute: 'customer_id' })
    })
    expect(refusals).toEqual([])
  })
})

describe('authorizeChanges: conversations', () => {
  const message = (actor: Actor, id = 'm1'): Message => ({
    id,
    direction: 'outbound',
    author: by(actor),
    text: 'hi',
    at: NOW,
    attachments: [],
  })
  const setup = () => {
    const { schema } = workspace()
    const doc = new Y.Doc()
    new ConversationDoc(doc, 'c1').init({
      contactId: 'k1',
      channel: 'sms',
      status: 'new',
      team: null,
      priority: 0,
      createdAt: NOW,
    })
    new ConversationDoc(doc, 'c1').addMessage(message(agent, 'm0'))
    return { view: schema.view(), doc }
  }

  it('accepts an agent reply and a status change', () => {
    const { view, doc } = setup()
    const refusals = judge('conversation', doc, agent, view, (client) => {
      const conversation = new ConversationDoc(client, 'c1')
      conversation.addMessage(message(agent), agent, view)
      conversation.setStatus('pending', agent, view)
    })
    expect(refusals).toEqual([])
  })

  it('refuses editing a sent message, forged authors, CRM posts and agent routing', () => {
    const { view, doc } = setup()
    const refusals = judge('conversation', doc, agent, view, (client) => {
      const messages = client.getMap('messages')
      messages.set('m0', { ...message(agent, 'm0'), text: 'rewritten' })
      messages.set('m2', message(admin, 'm2'))
      messages.set('m3', { ...message(agent, 'm3'), id: 'other' })
      client.getMap('meta').set('team', 'vip-desk')
      client.getMap('meta').set('status', 'closed')
    })
    expect(codes(refusals)).toEqual([
      'messages:m0 forbidden',
      'messages:m2 provenance-mismatch',
      'messages:m3 invalid-value',
      'meta:status invalid-value',
      'meta:team forbidden',
    ])
    const fromCrm = judge('conversation', setup().doc, crm, view, (client) =>
      client.getMap('messages').set('m9', message(crm, 'm9')),
    )
    expect(codes(fromCrm)).toEqual(['messages:m9 forbidden'])
  })

  it('refuses a message posted as the contact by anyone but the system, and one dated ahead', () => {
    const { view, doc } = setup()
    const inbound = (actor: Actor, id: string): Message => ({
      ...message(actor, id),
      direction: 'inbound',
    })
    const refusals = judge('conversation', doc, agent, view, (client) => {
      const messages = client.getMap('messages')
      messages.set('m1', inbound(agent, 'm1'))
      messages.set('m2', { ...message(agent, 'm2'), at: NOW + 10 * 365 * 24 * 3600 * 1000 })
    })
    expect(codes(refusals)).toEqual(['messages:m1 forbidden', 'messages:m2 provenance-mismatch'])
    const fromBot = judge('conversation', setup().doc, bot, view, (client) =>
      client.getMap('messages').set('m3', inbound(bot, 'm3')),
    )
    expect(codes(fromBot)).toEqual(['messages:m3 forbidden'])
    const fromChannel = judge('conversation', setup().doc, system, view, (client) =>
      client.getMap('messages').set('m4', inbound(system, 'm4')),
    )
    expect(fromChannel).toEqual([])
    // the SDK refuses it before writing
    const local = new ConversationDoc(new Y.Doc(), 'c1')
    expect(() => local.addMessage(inbound(agent, 'm5'), agent, view)).toThrowError(
      expect.objectContaining({ code: 'forbidden' }),
    )
  })
})
