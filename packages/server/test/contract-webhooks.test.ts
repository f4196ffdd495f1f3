import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type { Webhook } from '../src/webhooks/webhook-store'
import { backends } from './backends'

const hook = (workspace: string, id: string, over: Partial<Webhook> = {}): Webhook => ({
  id,
  workspace,
  url: `https://hooks.example.com/${id}`,
  events: ['contact.created', 'contact.deleted'],
  secret: 'ab'.repeat(32),
  createdAt: 1_000,
  updatedAt: 1_000,
  ...over,
})

describe.each(backends)('%s webhook store', (_name, open) => {
  let backend: Backend
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ backend, cleanup } = await open())
  })
  afterEach(async () => {
    await cleanup()
  })

  it('stores a webhook and reads it back whole', async () => {
    const webhook = hook('acme', 'h1', { events: ['contact.vip-changed'] })
    await backend.webhooks.create(webhook)
    expect(await backend.webhooks.get('acme', 'h1')).toEqual(webhook)
  })

  it("lists a workspace's webhooks oldest first, and only that workspace's", async () => {
    await backend.webhooks.create(hook('acme', 'late', { createdAt: 3_000 }))
    await backend.webhooks.create(hook('acme', 'early', { createdAt: 1_000 }))
    await backend.webhooks.create(hook('other', 'elsewhere', { createdAt: 2_000 }))
    expect((await backend.webhooks.list('acme')).map((w) => w.id)).toEqual(['early', 'late'])
    expect(await backend.webhooks.list('nobody')).toEqual([])
  })

  it('does not answer a webhook for another workspace', async () => {
    await backend.webhooks.create(hook('acme', 'h1'))
    expect(await backend.webhooks.get('other', 'h1')).toBeNull()
    expect(await backend.webhooks.remove('other', 'h1')).toBe(false)
    expect(await backend.webhooks.setSecret('other', 'h1', 'cd'.repeat(32), 2_000)).toBe(false)
    expect(await backend.webhooks.get('acme', 'h1')).toEqual(hook('acme', 'h1'))
  })

  it('replaces the secret and the update time', async () => {
    await backend.webhooks.create(hook('acme', 'h1'))
    expect(await backend.webhooks.setSecret('acme', 'h1', 'cd'.repeat(32), 5_000)).toBe(true)
    expect(await backend.webhooks.get('acme', 'h1')).toMatchObject({
      secret: 'cd'.repeat(32),
      createdAt: 1_000,
      updatedAt: 5_000,
    })
  })

  it('removes a webhook once', async () => {
    await backend.webhooks.create(hook('acme', 'h1'))
    expect(await backend.webhooks.remove('acme', 'h1')).toBe(true)
    expect(await backend.webhooks.remove('acme', 'h1')).toBe(false)
    expect(await backend.webhooks.get('acme', 'h1')).toBeNull()
  })

  it('refuses a second webhook with the same id', async () => {
    await backend.webhooks.create(hook('acme', 'h1'))
    await expect(backend.webhooks.create(hook('acme', 'h1'))).rejects.toThrow()
  })
})
