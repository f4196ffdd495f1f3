import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type { DeletionRecord } from '../src/deletion/deletion-log'
import type { ContactLinkRecord } from '../src/linking/link-store'
import { backends } from './backends'
import { allPages, codeOf } from './contract-helpers'

const record = (
  workspace: string,
  id: string,
  over: Partial<Omit<DeletionRecord, 'workspace' | 'id'>> = {},
): DeletionRecord => ({
  workspace,
  id,
  hint: `@${id.slice(0, 2)}***`,
  channel: 'instagram',
  deletedAt: 1_000,
  deletedBy: { userId: 'u-admin', name: 'Ada Admin' },
  ...over,
})

const link = (workspace: string, a: string, b: string, at = 1_000): ContactLinkRecord => ({
  workspace,
  a,
  b,
  kind: 'link',
  subject: b,
  by: { role: 'admin', userId: 'u-admin' },
  at,
})

const cursorOf = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')

describe.each(backends)('%s deletion log', (_name, open) => {
  let backend: Backend
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ backend, cleanup } = await open())
  })

  afterEach(() => cleanup())

  const ids = async (workspace: string): Promise<string[]> =>
    (await backend.deletionLog.list(workspace, { limit: 1000 })).items.map((r) => r.id)

  it('lists nothing for a workspace without deletions', async () => {
    expect(await backend.deletionLog.list('w1', { limit: 10 })).toEqual({ items: [], next: null })
  })

  it('reads back an appended record exactly, with or without the name of who deleted', async () => {
    const named = record('w1', 'r1', { channel: 'email', hint: 'an***@ex***', deletedAt: 5 })
    const unnamed = record('w1', 'r2', { deletedAt: 6, deletedBy: { userId: 'u-bot', name: null } })
    await backend.deletionLog.append(named)
    await backend.deletionLog.append(unnamed)

    expect(await backend.deletionLog.list('w1', { limit: 10 })).toEqual({
      items: [unnamed, named],
      next: null,
    })
  })

  it('lists newest first, ties broken by id, page by page without repeats or gaps', async () => {
    const deletedAt: Record<string, number> = { r1: 10, r2: 20, r3: 20, r4: 30, r5: 40, r6: 40 }
    // Appended out of order: the order comes from deletedAt and id, not from appending.
    for (const id of ['r4', 'r2', 'r6', 'r1', 'r5', 'r3']) {
      await backend.deletionLog.append(record('w1', id, { deletedAt: deletedAt[id] }))
    }

    const expected = ['r6', 'r5', 'r4', 'r3', 'r2', 'r1']
    expect(await ids('w1')).toEqual(expected)
    const byFour = await allPages(
      (cursor) => backend.deletionLog.list('w1', { limit: 4, cursor }),
      4,
    )
    expect(byFour.map((p) => p.map((r) => r.id))).toEqual([expected.slice(0, 4), expected.slice(4)])
    // Six in pages of three: the second page is exactly full and is the last.
    const byThree = await allPages(
      (cursor) => backend.deletionLog.list('w1', { limit: 3, cursor }),
      3,
    )
    expect(byThree.map((p) => p.map((r) => r.id))).toEqual([
      expected.slice(0, 3),
      expected.slice(3),
    ])
    const one = await backend.deletionLog.list('w1', { limit: 1 })
    expect(one.items.map((r) => r.id)).toEqual(['r6'])
    expect(one.next).not.toBeNull()
  })

  it('keeps pages stable while new deletions are appended', async () => {
    for (let i = 1; i <= 4; i++) {
      await backend.deletionLog.append(record('w1', `r${i}`, { deletedAt: i * 10 }))
    }
    const first = await backend.deletionLog.list('w1', { limit: 2 })
    expect(first.items.map((r) => r.id)).toEqual(['r4', 'r3'])

    await backend.deletionLog.append(record('w1', 'r9', { deletedAt: 90 }))
    const second = await backend.deletionLog.list('w1', { limit: 2, cursor: first.next })
    expect(second.items.map((r) => r.id)).toEqual(['r2', 'r1'])
    expect(second.next).toBeNull()
  })

  it("lists only the workspace's own records", async () => {
    await backend.deletionLog.append(record('w1', 'r1'))
    await backend.deletionLog.append(record('w2', 'r2'))
    await backend.deletionLog.append(record('w2', 'r1', { hint: 'other' }))

    expect(await ids('w1')).toEqual(['r1'])
    expect((await backend.deletionLog.list('w1', { limit: 10 })).items[0]?.hint).toBe('@r1***')
    expect(await ids('w2')).toEqual(['r2', 'r1'])
    expect(await ids('w3')).toEqual([])
  })

  it('refuses a garbage cursor, a cursor of another order and a bad limit as bad requests', async () => {
    await backend.deletionLog.append(record('w1', 'r1'))
    const list = (query: { limit: number; cursor?: string | null }): Promise<unknown> =>
      backend.deletionLog.list('w1', query)

    expect(await codeOf(list({ limit: 1, cursor: 'not!json' }))).toBe('bad-request')
    expect(await codeOf(list({ limit: 1, cursor: cursorOf('just a string') }))).toBe('bad-request')
    expect(
      await codeOf(list({ limit: 1, cursor: cursorOf({ o: 'priority', p: 0, t: 1, i: 'r' }) })),
    ).toBe('bad-request')
    expect(
      await codeOf(list({ limit: 1, cursor: cursorOf({ o: 'newest', t: 'x', i: 'r' }) })),
    ).toBe('bad-request')
    expect(await codeOf(list({ limit: 0 }))).toBe('bad-request')
    expect(await codeOf(list({ limit: -3 }))).toBe('bad-request')
    expect(await codeOf(list({ limit: 2.5 }))).toBe('bad-request')
    expect(await codeOf(list({ limit: 1001 }))).toBe('bad-request')
  })

  it('refuses a second record under an id of the workspace with a typed error, keeping the first', async () => {
    const first = record('w1', 'r1', { deletedAt: 10 })
    await backend.deletionLog.append(first)

    const again = backend.deletionLog.append(record('w1', 'r1', { hint: 'other', deletedAt: 20 }))
    expect(await codeOf(again)).toBe('invalid-value')
    expect((await backend.deletionLog.list('w1', { limit: 10 })).items).toEqual([first])
    // The same id in another workspace is another record.
    await backend.deletionLog.append(record('w2', 'r1'))
    expect(await ids('w2')).toEqual(['r1'])
  })

  it('offers no way to change or remove a record', () => {
    expect(Object.keys(backend.deletionLog).sort()).toEqual(['append', 'eraseContactRows', 'list'])
  })

  it('keeps a record as appended when the caller later changes its object', async () => {
    const mine = {
      workspace: 'w1',
      id: 'r1',
      hint: '@an***a',
      channel: 'x' as const,
      deletedAt: 10,
      deletedBy: { userId: 'u-admin', name: 'Ada' as string | null },
    }
    await backend.deletionLog.append(mine)
    mine.hint = 'changed'
    mine.deletedBy.name = 'Mallory'

    const [stored] = (await backend.deletionLog.list('w1', { limit: 1 })).items
    expect(stored?.hint).toBe('@an***a')
    expect(stored?.deletedBy).toEqual({ userId: 'u-admin', name: 'Ada' })
  })

  it("erases the contact's manual links and their change log", async () => {
    await backend.links.putLink(link('w1', 'c1', 'c2', 1))
    await backend.links.putLink({ ...link('w1', 'c0', 'c1', 2), kind: 'unlink', subject: 'c1' })
    await backend.links.putLink(link('w1', 'c1', 'c3', 3))
    await backend.links.removeLink('w1', 'c1', 'c3', { role: 'agent', userId: 'u-agent' }, 4)
    await backend.links.putLink(link('w1', 'c2', 'c4', 5))

    await backend.deletionLog.eraseContactRows('w1', 'c1')

    expect(await backend.links.linksOf('w1', ['c1'])).toEqual([])
    const log = await backend.links.linkLog('w1', 'c1', { limit: 100 })
    expect(log).toEqual({ items: [], next: null })
    // The partner's log keeps only what did not involve the erased contact.
    const partner = await backend.links.linkLog('w1', 'c2', { limit: 100 })
    expect(partner.items.map((e) => `${e.action} ${e.a}-${e.b}`)).toEqual(['link c2-c4'])
  })

  it("keeps other contacts' links, other workspaces and the deletion records when erasing", async () => {
    await backend.deletionLog.append(record('w1', 'r1'))
    await backend.links.putLink(link('w1', 'c1', 'c2', 1))
    await backend.links.putLink(link('w1', 'c2', 'c3', 2))
    await backend.links.putLink(link('w1', 'c4', 'c5', 3))
    await backend.links.putLink(link('w2', 'c1', 'c2', 4))

    await backend.deletionLog.eraseContactRows('w1', 'c1')

    expect(await backend.links.linksOf('w1', ['c2', 'c4'])).toEqual(
      expect.arrayContaining([link('w1', 'c2', 'c3', 2), link('w1', 'c4', 'c5', 3)]),
    )
    expect(await backend.links.linksOf('w1', ['c2', 'c4'])).toHaveLength(2)
    expect(await backend.links.linksOf('w2', ['c1'])).toEqual([link('w2', 'c1', 'c2', 4)])
    const other = await backend.links.linkLog('w1', 'c5', { limit: 10 })
    expect(other.items.map((e) => `${e.action} ${e.a}-${e.b} @${e.at}`)).toEqual(['link c4-c5 @3'])
    const elsewhere = await backend.links.linkLog('w2', 'c1', { limit: 10 })
    expect(elsewhere.items.map((e) => `${e.action} ${e.a}-${e.b} @${e.at}`)).toEqual([
      'link c1-c2 @4',
    ])
    expect(await ids('w1')).toEqual(['r1'])
  })

  it('erases a contact that has no links without error', async () => {
    await backend.links.putLink(link('w1', 'c1', 'c2'))
    await backend.deletionLog.eraseContactRows('w1', 'ghost')
    await backend.deletionLog.eraseContactRows('w9', 'c1')
    expect(await backend.links.linksOf('w1', ['c1'])).toEqual([link('w1', 'c1', 'c2')])
  })
})
