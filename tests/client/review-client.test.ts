import { describe, expect, it } from 'vitest'
import type { ContactHandle } from '@cardfile/core'
import { connectClient, createPlan, openSockets, startServer, token } from './harness'

const valueOf = (handle: ContactHandle, attributeId: string) =>
  handle.read().custom[attributeId]?.value ?? null

const databases = async (): Promise<string[]> =>
  (await indexedDB.databases()).map((d) => d.name ?? '')

describe('the Cardfile client, under review', () => {
  it('counts a change refused after reconnecting as settled, not pending, and undo leaves the allowed value', async () => {
    const { url } = await startServer()
    const admin = await connectClient(url, 'ana', 'admin')
    const plan = await createPlan(admin, [{ id: 'gold', label: 'Gold' }])
    const agent = await connectClient(url, 'bo', 'agent')
    const contact = agent.contact('c1')
    await Promise.all([contact.whenSynced(), contact.schemaHandle.whenSynced()])
    contact.setValue(plan, 'free')
    await expect.poll(() => contact.status().saved).toBe(true)

    // Offline, the agent picks Gold; meanwhile an admin retires Gold.
    agent.disconnect()
    await expect.poll(() => contact.status().status).toBe('offline')
    contact.setValue(plan, 'gold')
    expect(contact.status()).toMatchObject({ pending: 1, saved: false })
    const schema = admin.schema()
    await schema.whenSynced()
    schema.schema.retireOption(plan, 'gold')
    await expect.poll(() => schema.status().saved).toBe(true)

    const errors: string[] = []
    contact.onError((e) => errors.push(e.code))
    agent.connect()
    await expect.poll(() => errors).toContain('retired-option')
    // the server undid it: the replica is back at Free, and nothing waits to be saved
    await expect.poll(() => valueOf(contact, plan)).toBe('free')
    await expect.poll(() => contact.status()).toMatchObject({ status: 'synced', saved: true })
    expect(contact.status().pending).toBe(0)

    // Undoing the refused change must not bring Gold back nor raise a new refusal.
    contact.undo()
    await expect.poll(() => contact.status()).toMatchObject({ status: 'synced', saved: true })
    expect(valueOf(contact, plan)).toBe('free')
    expect(errors.filter((c) => c === 'retired-option')).toHaveLength(1)
    const other = admin.contact('c1')
    await other.whenSynced()
    await expect.poll(() => valueOf(other, plan)).toBe('free')
  })

  it('keeps a purged document purged when it is opened again, offline too: no data, no local copy, no writes', async () => {
    const { url, server } = await startServer()
    const admin = await connectClient(url, 'ana', 'admin')
    const plan = await createPlan(admin, [{ id: 'gold', label: 'Gold' }])
    const agent = await connectClient(url, 'bo', 'agent', { device: 'reopen-device' })
    const localName = 'reopen-device:bo:demo/contact/c1'
    const first = agent.contact('c1')
    await Promise.all([first.whenSynced(), first.schemaHandle.whenSynced()])
    first.setValue(plan, 'pro')
    await expect.poll(() => first.status().saved).toBe(true)
    await expect.poll(databases).toContain(localName)

    await server.host.erase(['demo/contact/c1'])
    await expect.poll(() => first.status().purged).toBe(true)
    first.release()
    await expect.poll(() => agent.openDocuments()).not.toContain('demo/contact/c1')
    await expect.poll(databases).not.toContain(localName)

    // Re-opened while offline: the client still knows the document is gone.
    agent.disconnect()
    const again = agent.contact('c1')
    expect(again.status().purged).toBe(true)
    expect(again.error()?.code).toBe('deleted')
    expect(again.read().custom).toEqual({})
    expect(() => again.setValue(plan, 'free')).toThrowError(
      expect.objectContaining({ code: 'deleted' }),
    )
    await expect(again.whenSynced()).rejects.toMatchObject({ code: 'deleted' })
    agent.connect()
    expect(again.status()).toMatchObject({ purged: true, status: 'offline' })
    expect(await databases()).not.toContain(localName)
  })

  it('starts a document opened while the first token fetch failed once a later fetch succeeds', async () => {
    const { url } = await startServer()
    let calls = 0
    const agent = await connectClient(url, 'bo', 'agent', {
      getToken: async () => {
        calls++
        if (calls === 1) throw new Error('network down')
        return token('bo', 'agent')
      },
    })
    const early = agent.contact('c1')
    await expect.poll(() => early.error()?.code).toBe('unauthorized')
    // A later document fetches a token again, and it comes.
    const later = agent.contact('c2')
    await later.whenSynced()
    // The early one connects with it and keeps a local copy, instead of staying dark for good.
    await early.whenSynced()
    await expect.poll(() => early.status().localLoaded).toBe(true)
    early.setVip(true)
    await expect.poll(() => early.status().saved).toBe(true)
    expect(calls).toBe(2)
  })

  it('settles whenSynced and closes every socket when the client is destroyed before syncing', async () => {
    const { url } = await startServer()
    const agent = await connectClient(url, 'bo', 'agent', { connect: false })
    const contact = agent.contact('c1')
    const synced = expect(contact.whenSynced()).rejects.toMatchObject({ code: 'bad-request' })
    await agent.destroy()
    await synced
    expect(openSockets()).toBe(0)
    expect(() => agent.contact('c2')).toThrowError(expect.objectContaining({ code: 'bad-request' }))
  })
})
