import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryStorage, signBody, verifySignature } from '@cardfile/server'
import { createSqliteStorage } from '@cardfile/server/sqlite'
import type { CrmStorage, Storage } from '@cardfile/server'
import { backoffMs, DEFAULT_RETRY } from '../src/crm/outbox'

const dirs: string[] = []
const stores: Storage[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const adapters: [string, () => Storage][] = [
  ['memory', () => createMemoryStorage()],
  [
    'SQLite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cardfile-crm-outbox-'))
      dirs.push(dir)
      return createSqliteStorage({ path: join(dir, 'db.sqlite') })
    },
  ],
]

describe('CRM signatures', () => {
  const secret = '0f'.repeat(32)

  it('verifies a body signed with the same secret', () => {
    const body = '{"type":"lookup"}'
    expect(verifySignature(body, signBody(body, secret), secret)).toBe(true)
  })

  it('refuses another secret, a changed body and a missing header', () => {
    const body = '{"type":"lookup"}'
    const signature = signBody(body, secret)
    expect(verifySignature(body, signature, 'aa'.repeat(32))).toBe(false)
    expect(verifySignature(`${body} `, signature, secret)).toBe(false)
    expect(verifySignature(body, undefined, secret)).toBe(false)
  })
})

describe('CRM retry backoff', () => {
  it('doubles per attempt up to the cap, with jitter within half of the delay', () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 }
    expect(backoffMs(1, policy, () => 0)).toBe(50)
    expect(backoffMs(1, policy, () => 1)).toBe(100)
    expect(backoffMs(3, policy, () => 1)).toBe(400)
    expect(backoffMs(10, policy, () => 1)).toBe(1000)
    expect(backoffMs(10, policy, () => 0)).toBe(500)
  })
})

describe.each(adapters)('CRM outbox storage (%s)', (_, open) => {
  const crmOf = (): CrmStorage => {
    const storage = open()
    stores.push(storage)
    return storage.crm!
  }
  const delivery = (id: string, contactId: string, at = 1000) => ({
    id,
    workspace: 'w',
    contactId,
    kind: 'write-back' as const,
    body: `{"id":"${id}"}`,
    createdAt: at,
  })

  it('hands out one delivery per contact, the oldest first', async () => {
    const crm = crmOf()
    await crm.enqueue(delivery('a1', 'a'))
    await crm.enqueue(delivery('b1', 'b'))
    await crm.enqueue(delivery('a2', 'a'))
    expect((await crm.dueHeads(2000, 10)).map((d) => d.id).sort()).toEqual(['a1', 'b1'])
    await crm.markDelivered('a1', 1, 2000)
    expect((await crm.dueHeads(2000, 10)).map((d) => d.id).sort()).toEqual(['a2', 'b1'])
  })

  it('keeps a contact waiting while its head is backing off', async () => {
    const crm = crmOf()
    await crm.enqueue(delivery('a1', 'a'))
    await crm.enqueue(delivery('a2', 'a'))
    await crm.markRetry('a1', 1, 5000, 'the CRM answered 503')
    expect(await crm.dueHeads(2000, 10)).toEqual([])
    expect(await crm.nextDueAt()).toBe(1000)
    expect((await crm.dueHeads(5000, 10)).map((d) => d.id)).toEqual(['a1'])
  })

  it('revives a dead delivery with its idempotency key and clears pending write-backs atomically', async () => {
    const crm = crmOf()
    await crm.putPending([
      {
        workspace: 'w',
        contactId: 'a',
        attributeId: 'tier',
        by: { role: 'agent', userId: 'u', at: 1 },
      },
    ])
    await crm.enqueue(delivery('a1', 'a'), { contactId: 'a', attributeIds: ['tier'] })
    expect(await crm.listPending('w', 'a')).toEqual([])
    await crm.markDead('a1', 3, 'the CRM answered 422', 2000)
    expect(await crm.dueHeads(3000, 10)).toEqual([])
    expect(await crm.revive('w', 'a1', 3000)).toBe(true)
    expect(await crm.revive('w', 'a1', 3000)).toBe(false)
    expect((await crm.dueHeads(3000, 10)).map((d) => [d.id, d.attempts])).toEqual([['a1', 0]])
  })

  it('forgets everything about an erased contact', async () => {
    const crm = crmOf()
    await crm.enqueue(delivery('a1', 'a'))
    await crm.putLookup({ workspace: 'w', contactId: 'a', at: 1, outcome: 'found', reason: null })
    await crm.forgetContact('w', 'a')
    expect(await crm.listDeliveries('w', { limit: 10 })).toEqual([])
    expect(await crm.getLookup('w', 'a')).toBeNull()
  })
})
