import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import { backends } from './backends'
import {
  allPages,
  codeOf,
  contactDoc,
  conversationDoc,
  indexContact,
  indexConversation,
} from './contract-helpers'
import { contactRow, conversationRow, updateSetting } from './storage-helpers'

describe.each(backends)('%s index store', (_name, factory) => {
  let backend: Backend
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ backend, cleanup } = await factory())
  })

  afterEach(() => cleanup())

  it('finds a contact by its channel identity within its workspace only', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { channel: 'x', platformUserId: 'u-42' }))
    await indexContact(backend, contactRow('w2', 'c1', { channel: 'x', platformUserId: 'u-42' }))

    const found = await backend.index.findContact('w1', 'x', 'u-42')
    expect(found).toEqual(contactRow('w1', 'c1', { channel: 'x', platformUserId: 'u-42' }))
    expect(await backend.index.findContact('w1', 'instagram', 'u-42')).toBeNull()
    expect(await backend.index.findContact('w3', 'x', 'u-42')).toBeNull()
  })

  it('keeps the latest index row of a contact after each append', async () => {
    await indexContact(backend, contactRow('w1', 'c1'))
    await indexContact(backend, contactRow('w1', 'c1', { vip: true, updatedAt: 2_000 }))

    const found = await backend.index.findContact('w1', 'whatsapp', 'pu-c1')
    expect(found?.vip).toBe(true)
    expect(found?.updatedAt).toBe(2_000)
  })

  it('refuses a second contact with a taken channel identity and keeps the others of its group', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { platformUserId: 'same' }))
    const results = await Promise.allSettled([
      indexContact(backend, contactRow('w1', 'c2', { platformUserId: 'same' })),
      indexContact(backend, contactRow('w1', 'c3')),
      backend.documents.append(contactDoc('w1', 'c4'), updateSetting('k', 'v')),
    ])

    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled'])
    expect(await codeOf(Promise.reject((results[0] as PromiseRejectedResult).reason))).toBe(
      'invalid-value',
    )
    expect(await backend.documents.load(contactDoc('w1', 'c2'))).toEqual([])
    expect((await backend.index.findContact('w1', 'whatsapp', 'same'))?.id).toBe('c1')
    expect(await backend.documents.load(contactDoc('w1', 'c4'))).toHaveLength(1)
  })

  it('refuses an index row that belongs to another document', async () => {
    const row = contactRow('w1', 'c1')
    expect(
      await codeOf(
        backend.documents.append(contactDoc('w1', 'other'), updateSetting('k', 'v'), row),
      ),
    ).toBe('bad-request')
    expect(await backend.index.findContact('w1', 'whatsapp', 'pu-c1')).toBeNull()
  })

  it("finds a contact's newest conversation that is not resolved", async () => {
    await indexConversation(backend, conversationRow('w1', 'v1', 'c1', { createdAt: 1 }))
    await indexConversation(backend, conversationRow('w1', 'v2', 'c1', { createdAt: 2 }))
    await indexConversation(
      backend,
      conversationRow('w1', 'v3', 'c1', { createdAt: 3, status: 'resolved' }),
    )
    await indexConversation(backend, conversationRow('w1', 'v4', 'c2', { createdAt: 4 }))

    expect((await backend.index.findOpenConversation('w1', 'c1'))?.id).toBe('v2')
    await indexConversation(
      backend,
      conversationRow('w1', 'v2', 'c1', { createdAt: 2, status: 'resolved' }),
    )
    expect((await backend.index.findOpenConversation('w1', 'c1'))?.id).toBe('v1')
    expect(await backend.index.findOpenConversation('w1', 'nobody')).toBeNull()
  })

  it('lists the VIP group newest first across pages without repeats', async () => {
    // Ties on createdAt (c2/c3, c6/c7) must still page deterministically, by id.
    const created: Record<string, number> = { c1: 10, c2: 20, c3: 20, c4: 30, c5: 40, c6: 50 }
    created.c7 = 50
    for (const [id, createdAt] of Object.entries(created)) {
      await indexContact(backend, contactRow('w1', id, { vip: true, createdAt }))
    }
    await indexContact(backend, contactRow('w1', 'plain', { vip: false, createdAt: 60 }))
    await indexContact(backend, contactRow('w2', 'elsewhere', { vip: true, createdAt: 70 }))

    const pages = await allPages(
      (cursor) => backend.index.listContacts('w1', { vip: true, limit: 3, cursor }),
      3,
    )
    expect(pages.map((p) => p.map((r) => r.id))).toEqual([
      ['c7', 'c6', 'c5'],
      ['c4', 'c3', 'c2'],
      ['c1'],
    ])
    const everyone = await backend.index.listContacts('w1', { limit: 100 })
    expect(everyone.items.map((r) => r.id)).toEqual([
      'plain',
      'c7',
      'c6',
      'c5',
      'c4',
      'c3',
      'c2',
      'c1',
    ])
    expect(everyone.next).toBeNull()
  })

  it('lists contacts sharing a matching value (linked contacts)', async () => {
    await indexContact(
      backend,
      contactRow('w1', 'a', { matchValue: 'ana@example.org', createdAt: 1 }),
    )
    await indexContact(
      backend,
      contactRow('w1', 'b', { channel: 'email', matchValue: 'ana@example.org', createdAt: 2 }),
    )
    await indexContact(backend, contactRow('w1', 'c', { matchValue: 'bob@example.org' }))

    const linked = await backend.index.listContacts('w1', {
      matchValue: 'ana@example.org',
      limit: 10,
    })
    expect(linked.items.map((r) => r.id)).toEqual(['b', 'a'])
  })

  it('lists the conversation history of several contacts newest first, page by page', async () => {
    for (let i = 1; i <= 7; i++) {
      const contactId = i % 2 === 0 ? 'even' : 'odd'
      await indexConversation(backend, conversationRow('w1', `v${i}`, contactId, { createdAt: i }))
    }
    await indexConversation(backend, conversationRow('w1', 'v9', 'stranger', { createdAt: 9 }))

    const pages = await allPages(
      (cursor) =>
        backend.index.listConversations('w1', {
          contactIds: ['odd', 'even'],
          order: 'newest',
          limit: 3,
          cursor,
        }),
      3,
    )
    expect(pages.map((p) => p.map((r) => r.id))).toEqual([
      ['v7', 'v6', 'v5'],
      ['v4', 'v3', 'v2'],
      ['v1'],
    ])
    const none = await backend.index.listConversations('w1', {
      contactIds: [],
      order: 'newest',
      limit: 5,
    })
    expect(none).toEqual({ items: [], next: null })
  })

  it('lists only the conversations of VIP contacts when filtered by the VIP group, in any order', async () => {
    await indexContact(backend, contactRow('w1', 'gold', { vip: true, platformUserId: 'g' }))
    await indexContact(backend, contactRow('w1', 'plain', { platformUserId: 'p' }))
    await indexContact(backend, contactRow('w2', 'plain', { vip: true, platformUserId: 'p' }))
    const rows = [
      conversationRow('w1', 'g-low', 'gold', { priority: 1, createdAt: 1 }),
      conversationRow('w1', 'g-high', 'gold', { team: 'vip-desk', priority: 5, createdAt: 2 }),
      conversationRow('w1', 'p-high', 'plain', { priority: 9, createdAt: 3 }),
      conversationRow('w2', 'other-ws', 'plain', { priority: 9, createdAt: 4 }),
    ]
    for (const row of rows) await indexConversation(backend, row)

    const queue = await allPages(
      (cursor) =>
        backend.index.listConversations('w1', {
          contactGroup: 'vip',
          order: 'priority',
          limit: 1,
          cursor,
        }),
      1,
    )
    expect(queue.flat().map((r) => r.id)).toEqual(['g-high', 'g-low'])
    const newest = await backend.index.listConversations('w1', {
      contactGroup: 'vip',
      order: 'newest',
      limit: 10,
    })
    expect(newest.items.map((r) => r.id)).toEqual(['g-high', 'g-low'])
    const team = await backend.index.listConversations('w1', {
      contactGroup: 'vip',
      team: null,
      order: 'priority',
      limit: 10,
    })
    expect(team.items.map((r) => r.id)).toEqual(['g-low'])

    // Unmarked: the group no longer holds the contact's conversations.
    await indexContact(
      backend,
      contactRow('w1', 'gold', { vip: false, platformUserId: 'g', updatedAt: 5_000 }),
    )
    const after = await backend.index.listConversations('w1', {
      contactGroup: 'vip',
      order: 'priority',
      limit: 10,
    })
    expect(after).toEqual({ items: [], next: null })
  })

  it("orders a team's queue by priority, then oldest first, and filters by status", async () => {
    const rows = [
      conversationRow('w1', 'low-old', 'c1', { team: 'vip', priority: 1, createdAt: 1 }),
      conversationRow('w1', 'high-new', 'c2', { team: 'vip', priority: 5, createdAt: 9 }),
      conversationRow('w1', 'high-old', 'c3', { team: 'vip', priority: 5, createdAt: 2 }),
      conversationRow('w1', 'mid', 'c4', { team: 'vip', priority: 3, createdAt: 5 }),
      conversationRow('w1', 'low-new', 'c5', { team: 'vip', priority: 1, createdAt: 8 }),
      conversationRow('w1', 'done', 'c6', { team: 'vip', priority: 9, status: 'resolved' }),
      conversationRow('w1', 'other-team', 'c7', { team: 'sales', priority: 9 }),
      conversationRow('w1', 'no-team', 'c8', { team: null, priority: 2 }),
    ]
    for (const row of rows) await indexConversation(backend, row)

    const pages = await allPages(
      (cursor) =>
        backend.index.listConversations('w1', {
          team: 'vip',
          status: ['new', 'pending'],
          order: 'priority',
          limit: 2,
          cursor,
        }),
      2,
    )
    expect(pages.map((p) => p.map((r) => r.id))).toEqual([
      ['high-old', 'high-new'],
      ['mid', 'low-old'],
      ['low-new'],
    ])
    const unassigned = await backend.index.listConversations('w1', {
      team: null,
      order: 'priority',
      limit: 10,
    })
    expect(unassigned.items.map((r) => r.id)).toEqual(['no-team'])
  })

  it('refuses a malformed cursor, a cursor of another order and a bad limit', async () => {
    await indexConversation(backend, conversationRow('w1', 'v1', 'c1', { createdAt: 1 }))
    await indexConversation(backend, conversationRow('w1', 'v2', 'c1', { createdAt: 2 }))
    const first = await backend.index.listConversations('w1', { order: 'newest', limit: 1 })
    expect(first.next).not.toBeNull()

    expect(
      await codeOf(
        backend.index.listConversations('w1', { order: 'priority', limit: 1, cursor: first.next }),
      ),
    ).toBe('bad-request')
    expect(await codeOf(backend.index.listContacts('w1', { limit: 1, cursor: 'not!json' }))).toBe(
      'bad-request',
    )
    expect(await codeOf(backend.index.listContacts('w1', { limit: 0 }))).toBe('bad-request')
  })

  it('erases index rows with their documents, leaves tombstones and refuses later appends', async () => {
    await indexContact(backend, contactRow('w1', 'c1', { vip: true }))
    await indexConversation(backend, conversationRow('w1', 'v1', 'c1'))
    await indexContact(backend, contactRow('w1', 'c2', { vip: true }))

    await backend.documents.erase([contactDoc('w1', 'c1'), conversationDoc('w1', 'v1')])

    expect(await backend.documents.isErased(contactDoc('w1', 'c1'))).toBe(true)
    expect(await backend.documents.isErased(contactDoc('w1', 'c2'))).toBe(false)
    expect(await backend.documents.load(contactDoc('w1', 'c1'))).toEqual([])
    expect(await backend.index.findContact('w1', 'whatsapp', 'pu-c1')).toBeNull()
    expect(await backend.index.findOpenConversation('w1', 'c1')).toBeNull()
    const vips = await backend.index.listContacts('w1', { vip: true, limit: 10 })
    expect(vips.items.map((r) => r.id)).toEqual(['c2'])
    expect(await codeOf(indexContact(backend, contactRow('w1', 'c1')))).toBe('deleted')
    expect(
      await codeOf(backend.documents.append(conversationDoc('w1', 'v1'), updateSetting('k', 'v'))),
    ).toBe('deleted')
  })
})
