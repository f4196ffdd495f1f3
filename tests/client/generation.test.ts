import { describe, expect, it } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import type { CardfileServer } from '@cardfile/server'
import { connectClient, startServer } from './harness'

/** An admin creates a text attribute with `label` and returns its id. */
async function createText(admin: CardfileClient, label: string): Promise<string> {
  const schema = admin.schema()
  await schema.whenSynced()
  const id = schema.schema.createAttribute({ label, type: 'text' }).id
  await expect.poll(() => schema.status().saved).toBe(true)
  schema.release()
  return id
}

/** What the server holds for a document: the keys of its `custom` map and its VIP flag. */
const serverSide = (server: CardfileServer, name: string) =>
  server.host.read(name, (doc) => ({
    custom: [...doc.getMap('custom').keys()],
    vip: doc.getMap('flags').get('vip') ?? null,
  }))

const attributeIds = (server: CardfileServer) =>
  server.host.read('demo/schema', (doc) => [...doc.getMap('attributes').keys()])

describe('caches from another server database', () => {
  it('drops a cache of an old database instead of uploading it, says so, then works normally', async () => {
    const old = await startServer()
    const admin = await connectClient(old.url, 'ana', 'admin', { device: 'laptop' })
    const note = await createText(admin, 'Note')
    const c1 = admin.contact('c1')
    await Promise.all([c1.whenSynced(), c1.schemaHandle.whenSynced()])
    c1.setValue(note, 'from the old database')
    await expect.poll(() => c1.status().saved).toBe(true)
    // Edits left pending offline: one on a synced contact, one on a contact created offline.
    admin.disconnect()
    c1.setValue(note, 'pending and stale')
    const c2 = admin.contact('c2')
    await expect.poll(() => c2.status().localLoaded).toBe(true)
    c2.setValue(note, 'created offline')
    c2.setVip(true)
    await admin.destroy()

    // The page reloads against a server whose database was created anew.
    const fresh = await startServer()
    const again = await connectClient(fresh.url, 'ana', 'admin', {
      device: 'laptop',
      connect: false,
    })
    const errors: string[] = []
    again.onError((error, doc) => errors.push(`${doc} ${error.code}`))
    const reloaded = again.contact('c1')
    const created = again.contact('c2')
    await expect.poll(() => reloaded.read().custom[note]?.value).toBe('pending and stale')
    again.connect()

    await expect
      .poll(() => errors.sort())
      .toEqual([
        'demo/contact/c1 cache-discarded',
        'demo/contact/c2 cache-discarded',
        'demo/schema cache-discarded',
      ])
    await expect.poll(() => reloaded.status()).toMatchObject({ status: 'synced', saved: true })
    await expect.poll(() => created.status()).toMatchObject({ status: 'synced', saved: true })
    expect(reloaded.error()?.code).toBe('cache-discarded')
    expect(reloaded.read().custom).toEqual({})
    expect(created.read().vip).toBeNull()
    expect(reloaded.schemaHandle.schema.view().definitions.has(note)).toBe(false)
    expect(await serverSide(fresh.server, 'demo/contact/c1')).toEqual({ custom: [], vip: null })
    expect(await serverSide(fresh.server, 'demo/contact/c2')).toEqual({ custom: [], vip: null })
    expect(await attributeIds(fresh.server)).not.toContain(note)

    // Working normally again: a new attribute and a value reach the new database.
    const plan = await createText(again, 'Plan')
    await expect.poll(() => reloaded.schemaHandle.schema.view().definitions.has(plan)).toBe(true)
    reloaded.setValue(plan, 'pro')
    await expect.poll(() => reloaded.status().saved).toBe(true)
    expect(await serverSide(fresh.server, 'demo/contact/c1')).toEqual({ custom: [plan], vip: null })
  })

  it('keeps the cache of a database that is still the same, and uploads its pending edits', async () => {
    const { url, server } = await startServer()
    const admin = await connectClient(url, 'ana', 'admin', { device: 'desk' })
    const note = await createText(admin, 'Note')
    const c1 = admin.contact('c1')
    await Promise.all([c1.whenSynced(), c1.schemaHandle.whenSynced()])
    admin.disconnect()
    c1.setValue(note, 'offline')
    await admin.destroy()

    const again = await connectClient(url, 'ana', 'admin', { device: 'desk' })
    const errors: string[] = []
    again.onError((error) => errors.push(error.code))
    const reloaded = again.contact('c1')
    await expect.poll(() => reloaded.status()).toMatchObject({ status: 'synced', saved: true })
    expect(await serverSide(server, 'demo/contact/c1')).toEqual({ custom: [note], vip: null })
    expect(errors).toEqual([])
  })

  it('empties an open document when its server comes back with a new database', async () => {
    const old = await startServer()
    const admin = await connectClient(old.url, 'ana', 'admin', { device: 'tab' })
    const note = await createText(admin, 'Note')
    const c1 = admin.contact('c1')
    await Promise.all([c1.whenSynced(), c1.schemaHandle.whenSynced()])
    c1.setValue(note, 'before the reset')
    await expect.poll(() => c1.status().saved).toBe(true)
    const errors: string[] = []
    c1.onError((error) => errors.push(error.code))

    // The database is reset while the tab stays open: same address, new store.
    await old.server.close()
    const fresh = await startServer({ port: old.server.port })

    await expect.poll(() => errors).toContain('cache-discarded')
    await expect.poll(() => c1.status()).toMatchObject({ status: 'synced', saved: true })
    expect(c1.read().custom).toEqual({})
    expect(await serverSide(fresh.server, 'demo/contact/c1')).toEqual({ custom: [], vip: null })
    expect(await attributeIds(fresh.server)).not.toContain(note)
  })
})
