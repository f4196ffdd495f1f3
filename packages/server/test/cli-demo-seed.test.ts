import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ContactDoc,
  ConversationDoc,
  SchemaDoc,
  contactDocName,
  conversationDocName,
  schemaDocName,
} from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import { DEMO_USERS, seedDemoWorkspace } from '../src/demo/seed'
import { within } from '../src/http/within'
import { createCardfileServer } from '../src/server'
import { createSqliteBackend } from '../src/storage/sqlite-backend'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start() {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-demo-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const backend = createSqliteBackend({ path: join(dir, 'demo.db') })
  cleanups.push(() => backend.close())
  const server = await createCardfileServer({ backend, auth: { secret: 's' }, host: '127.0.0.1' })
  cleanups.push(() => server.close())
  return { server, backend }
}

describe('seedDemoWorkspace (cardfile serve --demo)', () => {
  it('seeds custom attributes in order, VIP settings and one admin with two agents', async () => {
    const { server } = await start()
    const result = await seedDemoWorkspace(server.host, { workspace: 'demo' })
    expect(result.seeded).toBe(true)
    const schema = await server.host.read(schemaDocName('demo'), (doc) =>
      within(new SchemaDoc(doc), (s) => ({
        custom: s
          .definitions()
          .filter((d) => d.kind === 'custom')
          .map((d) => [d.label, d.type, d.options.map((o) => o.label)]),
        lookup: s.definition('customer_id')?.lookup,
        platform: s.definitions().filter((d) => d.kind === 'platform').length,
        settings: s.settings(),
      })),
    )
    expect(schema.custom).toEqual([
      ['Customer ID', 'text', []],
      ['Plan', 'dropdown', ['Free', 'Pro', 'Enterprise']],
      ['Preferred language', 'dropdown', ['English', 'Español', 'Français', 'Deutsch', 'Svenska']],
      ['Notes', 'text', []],
    ])
    expect(schema.lookup).toBe(true)
    expect(schema.platform).toBeGreaterThan(10)
    expect(schema.settings).toMatchObject({
      vipEnabled: true,
      vipTeam: 'vip',
      matchingAttribute: 'customer_id',
    })
    expect(DEMO_USERS.map((u) => `${u.userId}:${u.role}`)).toEqual([
      'ana:admin',
      'ben:agent',
      'cleo:agent',
    ])
  })

  it('creates eight contacts across every channel with conversations in each status', async () => {
    const { server, backend } = await start()
    const { contactIds } = await seedDemoWorkspace(server.host, { workspace: 'demo' })
    expect(contactIds).toHaveLength(8)
    const contacts = await backend.index.listContacts('demo', { limit: 50 })
    expect(new Set(contacts.items.map((c) => c.channel))).toEqual(
      new Set(['x', 'instagram', 'facebook', 'whatsapp', 'sms', 'email', 'webchat']),
    )
    expect(contacts.items.every((c) => c.hint.includes('***'))).toBe(true)
    const conversations = await backend.index.listConversations('demo', {
      order: 'newest',
      limit: 50,
    })
    const statuses = conversations.items.map((c) => c.status)
    expect(new Set(statuses)).toEqual(new Set(['new', 'pending', 'resolved']))

    // VIP contacts sit in the VIP group, and their conversations in the VIP team's queue.
    const vip = await backend.index.listContacts('demo', { vip: true, limit: 50 })
    expect(vip.items).toHaveLength(2)
    const vipQueue = await backend.index.listConversations('demo', {
      team: 'vip',
      order: 'priority',
      limit: 50,
    })
    expect(vipQueue.items.map((c) => c.contactId).sort()).toEqual(vip.items.map((c) => c.id).sort())
    expect(vipQueue.items.every((c) => c.priority === 1)).toBe(true)

    // The X and email contacts of one customer are linked by the matching attribute.
    const linked = await backend.index.listContacts('demo', { matchValue: 'C-1001', limit: 50 })
    expect(linked.items.map((c) => c.channel).sort()).toEqual(['email', 'x'])
  })

  it('writes values with provenance and replies by the demo agents', async () => {
    const { server, backend } = await start()
    await seedDemoWorkspace(server.host, { workspace: 'demo' })
    const row = await backend.index.findContact('demo', 'instagram', '8821730045')
    if (row === null) throw new Error('the Instagram demo contact is missing')
    const contact = await server.host.read(contactDocName('demo', row.id), (doc) =>
      within(new ContactDoc(doc, row.id), (c) => c.read()),
    )
    expect(contact.custom.plan).toMatchObject({
      value: 'free',
      by: { role: 'admin', userId: 'ana' },
    })
    expect(contact.platform.instagram_username?.value).toBe('bjorn.design')
    const open = await backend.index.findOpenConversation('demo', row.id)
    if (open === null) throw new Error('no open conversation')
    const messages = await server.host.read(conversationDocName('demo', open.id), (doc) =>
      within(new ConversationDoc(doc, open.id), (c) => c.messages()),
    )
    expect(messages.map((m) => [m.direction, m.author.userId])).toEqual([
      ['inbound', 'channel-ingest'],
      ['outbound', 'ben'],
    ])
    expect(open.status).toBe('pending')
  })

  it('does nothing on a workspace that already holds the demo', async () => {
    const { server, backend } = await start()
    await seedDemoWorkspace(server.host, { workspace: 'demo' })
    const again = await seedDemoWorkspace(server.host, { workspace: 'demo' })
    expect(again).toEqual({ seeded: false, workspace: 'demo', contactIds: [] })
    expect((await backend.index.listContacts('demo', { limit: 50 })).items).toHaveLength(8)
  })
})
