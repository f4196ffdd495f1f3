import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type { CrmConfig, CrmLookupRecord, PendingWriteBack } from '../src/crm/crm-storage'
import { backends } from './backends'

const config = (
  workspace: string,
  over: Partial<Omit<CrmConfig, 'workspace'>> = {},
): CrmConfig => ({
  workspace,
  enabled: true,
  lookupUrl: 'https://crm.example.org/lookup',
  writeBackUrl: 'https://crm.example.org/write-back',
  notificationUrl: null,
  secret: 'a1b2c3d4e5f60718',
  updatedAt: 1_000,
  ...over,
})

const pending = (
  workspace: string,
  contactId: string,
  attributeId: string,
  by: Partial<PendingWriteBack['by']> = {},
): PendingWriteBack => ({
  workspace,
  contactId,
  attributeId,
  by: { role: 'agent', userId: 'u-agent', at: 1_000, ...by },
})

const lookup = (
  workspace: string,
  contactId: string,
  over: Partial<Omit<CrmLookupRecord, 'workspace' | 'contactId'>> = {},
): CrmLookupRecord => ({ workspace, contactId, at: 1_000, outcome: 'found', reason: null, ...over })

const attributes = (rows: readonly PendingWriteBack[]): string[] =>
  rows.map((r) => r.attributeId).sort()

describe.each(backends)('%s CRM storage', (_name, open) => {
  let backend: Backend
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ backend, cleanup } = await open())
  })

  afterEach(() => cleanup())

  it('has no configuration for a workspace that never stored one', async () => {
    expect(await backend.crm.getConfig('w1')).toBeNull()
  })

  it('reads back a stored configuration exactly, per workspace', async () => {
    const w1 = config('w1')
    const w2 = config('w2', {
      enabled: false,
      lookupUrl: null,
      writeBackUrl: null,
      notificationUrl: 'https://crm.example.org/notify',
      secret: 'ffff',
      updatedAt: 2_000,
    })
    await backend.crm.putConfig(w1)
    await backend.crm.putConfig(w2)

    expect(await backend.crm.getConfig('w1')).toEqual(w1)
    expect(await backend.crm.getConfig('w2')).toEqual(w2)
    expect(await backend.crm.getConfig('w3')).toBeNull()
  })

  it('replaces a configuration on a second put, every field included', async () => {
    await backend.crm.putConfig(config('w1'))
    const replaced = config('w1', {
      enabled: false,
      lookupUrl: null,
      writeBackUrl: 'https://other.example.org/wb',
      notificationUrl: 'https://other.example.org/n',
      secret: '00ff',
      updatedAt: 5_000,
    })
    await backend.crm.putConfig(replaced)

    expect(await backend.crm.getConfig('w1')).toEqual(replaced)
  })

  it('numbers the deliveries of each contact 1, 2, 3… independently', async () => {
    expect(await backend.crm.nextSequence('w1', 'c1')).toBe(1)
    expect(await backend.crm.nextSequence('w1', 'c1')).toBe(2)
    expect(await backend.crm.nextSequence('w1', 'c2')).toBe(1)
    expect(await backend.crm.nextSequence('w2', 'c1')).toBe(1)
    expect(await backend.crm.nextSequence('w1', 'c1')).toBe(3)
  })

  it('hands out distinct sequence numbers to concurrent callers', async () => {
    const numbers = await Promise.all(
      Array.from({ length: 8 }, () => backend.crm.nextSequence('w1', 'c1')),
    )
    expect([...numbers].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(await backend.crm.nextSequence('w1', 'c1')).toBe(9)
  })

  it('lists nothing pending for a contact without edits', async () => {
    expect(await backend.crm.listPending('w1', 'c1')).toEqual([])
  })

  it("stores pending write-backs and lists only the contact's own", async () => {
    const rows = [
      pending('w1', 'c1', 'phone', { at: 10 }),
      pending('w1', 'c1', 'email', { role: 'admin', userId: 'u-admin', at: 11 }),
      pending('w1', 'c2', 'email', { at: 12 }),
      pending('w2', 'c1', 'plan', { at: 13 }),
    ]
    await backend.crm.putPending(rows)

    const c1 = await backend.crm.listPending('w1', 'c1')
    expect([...c1].sort((x, y) => (x.attributeId < y.attributeId ? -1 : 1))).toEqual([
      rows[1],
      rows[0],
    ])
    expect(await backend.crm.listPending('w1', 'c2')).toEqual([rows[2]])
    expect(await backend.crm.listPending('w2', 'c1')).toEqual([rows[3]])
    expect(await backend.crm.listPending('w2', 'c2')).toEqual([])
  })

  it('replaces an older pending edit of the same attribute with the newer one', async () => {
    await backend.crm.putPending([
      pending('w1', 'c1', 'email', { at: 10 }),
      pending('w1', 'c1', 'phone', { at: 10 }),
    ])
    const newer = pending('w1', 'c1', 'email', { role: 'admin', userId: 'u-boss', at: 20 })
    await backend.crm.putPending([newer])

    const rows = await backend.crm.listPending('w1', 'c1')
    expect(rows).toHaveLength(2)
    expect(rows.find((r) => r.attributeId === 'email')).toEqual(newer)
    expect(rows.find((r) => r.attributeId === 'phone')?.by.at).toBe(10)

    // Twice in one batch: the later row of the batch wins.
    await backend.crm.putPending([
      pending('w1', 'c1', 'phone', { at: 30, userId: 'first' }),
      pending('w1', 'c1', 'phone', { at: 31, userId: 'second' }),
    ])
    const phone = (await backend.crm.listPending('w1', 'c1')).find((r) => r.attributeId === 'phone')
    expect(phone?.by).toEqual({ role: 'agent', userId: 'second', at: 31 })
  })

  it('accepts an empty batch of pending write-backs', async () => {
    await backend.crm.putPending([pending('w1', 'c1', 'email')])
    await backend.crm.putPending([])
    expect(attributes(await backend.crm.listPending('w1', 'c1'))).toEqual(['email'])
  })

  it('clears only the named attributes of the named contact', async () => {
    await backend.crm.putPending([
      pending('w1', 'c1', 'email'),
      pending('w1', 'c1', 'phone'),
      pending('w1', 'c1', 'plan'),
      pending('w1', 'c2', 'email'),
      pending('w2', 'c1', 'email'),
    ])

    await backend.crm.clearPending('w1', 'c1', ['email', 'plan', 'never-pending'])

    expect(attributes(await backend.crm.listPending('w1', 'c1'))).toEqual(['phone'])
    expect(attributes(await backend.crm.listPending('w1', 'c2'))).toEqual(['email'])
    expect(attributes(await backend.crm.listPending('w2', 'c1'))).toEqual(['email'])

    await backend.crm.clearPending('w1', 'c1', [])
    expect(attributes(await backend.crm.listPending('w1', 'c1'))).toEqual(['phone'])
    await backend.crm.clearPending('w1', 'c1', ['phone'])
    expect(await backend.crm.listPending('w1', 'c1')).toEqual([])
  })

  it('keeps an edit made after a clear of the same attribute', async () => {
    await backend.crm.putPending([pending('w1', 'c1', 'email', { at: 10 })])
    await backend.crm.clearPending('w1', 'c1', ['email'])
    const again = pending('w1', 'c1', 'email', { at: 20 })
    await backend.crm.putPending([again])
    expect(await backend.crm.listPending('w1', 'c1')).toEqual([again])
  })

  it("reads back each contact's last lookup outcome and replaces it with the next", async () => {
    expect(await backend.crm.getLookup('w1', 'c1')).toBeNull()
    const found = lookup('w1', 'c1', { at: 10 })
    const refused = lookup('w1', 'c2', { at: 11, outcome: 'refused', reason: 'HTTP 403' })
    await backend.crm.putLookup(found)
    await backend.crm.putLookup(refused)

    expect(await backend.crm.getLookup('w1', 'c1')).toEqual(found)
    expect(await backend.crm.getLookup('w1', 'c2')).toEqual(refused)
    expect(await backend.crm.getLookup('w2', 'c1')).toBeNull()

    const failed = lookup('w1', 'c1', { at: 20, outcome: 'failed', reason: 'timeout' })
    await backend.crm.putLookup(failed)
    expect(await backend.crm.getLookup('w1', 'c1')).toEqual(failed)
    const notFound = lookup('w1', 'c1', { at: 30, outcome: 'not-found', reason: null })
    await backend.crm.putLookup(notFound)
    expect(await backend.crm.getLookup('w1', 'c1')).toEqual(notFound)
  })

  it('forgets the pending edits, lookup and sequence of an erased contact and nothing else', async () => {
    await backend.crm.putConfig(config('w1'))
    await backend.crm.putPending([
      pending('w1', 'c1', 'email'),
      pending('w1', 'c1', 'phone'),
      pending('w1', 'c2', 'email'),
      pending('w2', 'c1', 'email'),
    ])
    await backend.crm.putLookup(lookup('w1', 'c1'))
    await backend.crm.putLookup(lookup('w1', 'c2', { outcome: 'not-found' }))
    await backend.crm.putLookup(lookup('w2', 'c1', { outcome: 'failed', reason: 'x' }))
    for (const [ws, id] of [
      ['w1', 'c1'],
      ['w1', 'c1'],
      ['w1', 'c2'],
      ['w2', 'c1'],
    ] as const) {
      await backend.crm.nextSequence(ws, id)
    }

    await backend.crm.forgetContact('w1', 'c1')

    expect(await backend.crm.listPending('w1', 'c1')).toEqual([])
    expect(await backend.crm.getLookup('w1', 'c1')).toBeNull()
    expect(await backend.crm.nextSequence('w1', 'c1')).toBe(1)

    expect(attributes(await backend.crm.listPending('w1', 'c2'))).toEqual(['email'])
    expect(attributes(await backend.crm.listPending('w2', 'c1'))).toEqual(['email'])
    expect(await backend.crm.getLookup('w1', 'c2')).toEqual(
      lookup('w1', 'c2', { outcome: 'not-found' }),
    )
    expect(await backend.crm.getLookup('w2', 'c1')).toEqual(
      lookup('w2', 'c1', { outcome: 'failed', reason: 'x' }),
    )
    expect(await backend.crm.nextSequence('w1', 'c2')).toBe(2)
    expect(await backend.crm.nextSequence('w2', 'c1')).toBe(2)
    expect(await backend.crm.getConfig('w1')).toEqual(config('w1'))
  })

  it('forgets a contact it holds nothing about without error', async () => {
    await backend.crm.putPending([pending('w1', 'c1', 'email')])
    await backend.crm.forgetContact('w1', 'ghost')
    await backend.crm.forgetContact('w9', 'c1')
    expect(attributes(await backend.crm.listPending('w1', 'c1'))).toEqual(['email'])
  })
})
