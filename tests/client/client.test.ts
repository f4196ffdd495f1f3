import { describe, expect, it } from 'vitest'
import { CardfileError } from '@cardfile/core'
import type { ContactHandle } from '@cardfile/core'
import { connectClient, createPlan, openSockets, startServer, token } from './harness'

const valueOf = (handle: ContactHandle, attributeId: string) =>
  handle.read().custom[attributeId]?.value ?? null

/** A fresh server and ana, an admin, who created the Plan dropdown. */
async function serverWithPlan() {
  const { url, server } = await startServer()
  const admin = await connectClient(url, 'ana', 'admin')
  const plan = await createPlan(admin)
  return { url, server, admin, plan }
}

/** ana (the admin who created Plan) and bo (an agent), each with contact c1 open and synced. */
async function anaAndBoOnOneContact() {
  const { url, admin, plan } = await serverWithPlan()
  const agent = await connectClient(url, 'bo', 'agent')
  const a = admin.contact('c1')
  const b = agent.contact('c1')
  await Promise.all([a.whenSynced(), b.whenSynced(), b.schemaHandle.whenSynced()])
  return { plan, a, b }
}

describe('the Cardfile client', () => {
  it('shares one replica and one socket among three openers and closes after the last', async () => {
    const { url, server } = await startServer()
    const client = await connectClient(url, 'ana', 'agent')
    const handles = [client.contact('c1'), client.contact('c1'), client.contact('c1')]
    expect(new Set(handles.map((h) => h.doc)).size).toBe(1)
    await handles[0]?.whenSynced()
    // one socket for the contact and the schema it is read against
    expect(openSockets()).toBe(1)
    expect(server.connectionCount()).toBe(1)
    handles[0]?.release()
    handles[0]?.release() // releasing twice counts once
    handles[1]?.release()
    expect(client.openDocuments()).toContain('demo/contact/c1')
    handles[2]?.release()
    await expect.poll(() => client.openDocuments()).toEqual([])
    await expect.poll(() => openSockets()).toBe(0)
    await expect.poll(() => server.connectionCount()).toBe(0)
  })

  it('syncs value edits both ways between two clients', async () => {
    const { plan, a, b } = await anaAndBoOnOneContact()
    a.setValue(plan, 'pro')
    await expect.poll(() => valueOf(b, plan)).toBe('pro')
    expect(b.read().custom[plan]?.by).toMatchObject({ userId: 'ana', role: 'admin' })
    b.setValue(plan, 'free')
    await expect.poll(() => valueOf(a, plan)).toBe('free')
    expect(a.read().custom[plan]?.by).toMatchObject({ userId: 'bo', role: 'agent' })
  })

  it('reports pending changes until the durable ack covers them, then saved', async () => {
    const { admin, plan } = await serverWithPlan()
    const contact = admin.contact('c1')
    await contact.whenSynced()
    expect(contact.status()).toMatchObject({ pending: 0, saved: true })
    const seen: number[] = []
    contact.subscribe(() => seen.push(contact.status().pending))
    contact.setValue(plan, 'pro')
    contact.setValue(plan, 'free')
    expect(contact.status()).toMatchObject({ pending: 2, saved: false })
    expect(admin.status()).toMatchObject({ pending: 2, saved: false })
    await expect.poll(() => contact.status().saved).toBe(true)
    expect(contact.status().pending).toBe(0)
    expect(seen).toContain(2)
  })

  it('keeps pending changes while offline and saves them after reconnecting', async () => {
    const { admin, plan } = await serverWithPlan()
    const contact = admin.contact('c1')
    await contact.whenSynced()
    admin.disconnect()
    await expect.poll(() => contact.status().status).toBe('offline')
    contact.setValue(plan, 'pro')
    expect(contact.status()).toMatchObject({ pending: 1, saved: false, status: 'offline' })
    admin.connect()
    await expect.poll(() => contact.status()).toMatchObject({ status: 'synced', saved: true })
  })

  it('delivers a refusal of a forged raw write as a CardfileError with code and field', async () => {
    const { url } = await startServer()
    const agent = await connectClient(url, 'bo', 'agent')
    const contact = agent.contact('c1')
    await contact.whenSynced()
    const clientErrors: CardfileError[] = []
    const docErrors: CardfileError[] = []
    agent.onError((e) => clientErrors.push(e))
    contact.onError((e) => docErrors.push(e))
    // Agents may never write a contact's profile; the SDK would refuse, so write the raw map.
    contact.doc.getMap('profile').set('hint', '@forged')
    await expect.poll(() => docErrors.length).toBe(1)
    expect(docErrors[0]).toBeInstanceOf(CardfileError)
    expect(docErrors[0]?.code).toBe('forbidden')
    expect(docErrors[0]?.field).toContain('hint')
    expect(clientErrors).toHaveLength(1)
    // the server's compensation restores the previous (absent) value on this replica too
    await expect.poll(() => contact.doc.getMap('profile').get('hint')).toBeUndefined()
  })

  it('refuses locally, before writing, a value that is not an option', async () => {
    const { admin, plan } = await serverWithPlan()
    const contact = admin.contact('c1')
    await contact.whenSynced()
    expect(() => contact.setValue(plan, 'gold')).toThrowError(
      expect.objectContaining({ code: 'not-an-option' }),
    )
    expect(contact.error()?.code).toBe('not-an-option')
    expect(contact.status().pending).toBe(0)
  })

  it('merges offline edits kept in IndexedDB across a restart with nothing lost', async () => {
    const { url, admin, plan } = await serverWithPlan()
    const schema = admin.schema()
    await schema.whenSynced()
    const team = schema.schema.createAttribute({ label: 'Team', type: 'text' }).id
    await expect.poll(() => schema.status().saved).toBe(true)

    const tab = await connectClient(url, 'bo', 'agent', { device: 'laptop' })
    const contact = tab.contact('c1')
    await Promise.all([contact.whenSynced(), contact.schemaHandle.whenSynced()])
    tab.disconnect()
    contact.setValue(plan, 'pro')
    contact.setVip(true)
    // meanwhile someone else edits another field of the same contact
    const other = admin.contact('c1')
    await other.whenSynced()
    other.setValue(team, 'Billing')
    await expect.poll(() => other.status().saved).toBe(true)
    await tab.destroy()

    // the page is rebuilt from IndexedDB, offline first
    const again = await connectClient(url, 'bo', 'agent', { device: 'laptop', connect: false })
    const reloaded = again.contact('c1')
    await expect.poll(() => reloaded.status().source).toBe('local')
    expect(valueOf(reloaded, plan)).toBe('pro')
    expect(reloaded.status()).toMatchObject({ saved: false, status: 'offline' })
    again.connect()
    await expect.poll(() => reloaded.status()).toMatchObject({ source: 'server', saved: true })
    expect(valueOf(reloaded, team)).toBe('Billing')
    await expect.poll(() => valueOf(other, plan)).toBe('pro')
    await expect.poll(() => other.read().vip?.value).toBe(true)
  })

  it('says "none" when the local database is empty, not "local"', async () => {
    const { url } = await startServer()
    const client = await connectClient(url, 'bo', 'agent', { connect: false })
    const contact = client.contact('c9')
    await expect.poll(() => contact.status().localLoaded).toBe(true)
    expect(contact.status().source).toBe('none')
  })

  it('refreshes an expiring token and reconnects without losing edits', async () => {
    const { url } = await startServer()
    let issued = 0
    const client = await connectClient(url, 'ana', 'admin', {
      getToken: () => {
        issued++
        return token('ana', 'admin', { expiresInSeconds: 2 })
      },
    })
    const plan = await createPlan(client)
    const contact = client.contact('c1')
    await contact.whenSynced()
    // outlive the first token: the server closes expired connections with 4401 token-expired
    await expect.poll(() => issued, { timeout: 8000 }).toBeGreaterThanOrEqual(3)
    contact.setValue(plan, 'pro')
    await expect
      .poll(() => contact.status(), { timeout: 8000 })
      .toMatchObject({
        status: 'synced',
        saved: true,
      })
    expect(contact.error()).toBeNull()
  })

  it('shows who else views a contact and which field they edit', async () => {
    const { url } = await startServer()
    const ana = await connectClient(url, 'ana', 'agent')
    const bo = await connectClient(url, 'bo', 'agent')
    const a = ana.contact('c1')
    const b = bo.contact('c1')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    await expect.poll(() => a.presence().map((p) => p.userId)).toEqual(['bo'])
    b.setEditing('custom:plan')
    await expect.poll(() => a.presence()[0]?.editing).toBe('custom:plan')
    expect(a.presence()[0]).toMatchObject({ viewing: 'demo/contact/c1', role: 'agent' })
    b.release()
    await expect.poll(() => a.presence()).toEqual([])
  })

  it("undoes only the local user's own change, restoring the earlier value for everyone", async () => {
    const { plan, a, b } = await anaAndBoOnOneContact()
    a.setValue(plan, 'free')
    await expect.poll(() => valueOf(b, plan)).toBe('free')
    expect(b.canUndo()).toBe(false)
    b.setValue(plan, 'pro')
    await expect.poll(() => valueOf(a, plan)).toBe('pro')
    // ana's change was overwritten by bo's: nothing of hers is left to undo, and bo's is not hers
    expect(a.undo()).toBe(false)
    expect(b.undo()).toBe(true)
    expect(valueOf(b, plan)).toBe('free')
    await expect.poll(() => valueOf(a, plan)).toBe('free')
    // the restored value is stamped as bo's write (the server refuses foreign provenance)
    expect(b.read().custom[plan]?.by.userId).toBe('bo')
    await expect.poll(() => b.status().saved).toBe(true)
    expect(b.error()).toBeNull()
    expect(b.redo()).toBe(true)
    await expect.poll(() => valueOf(a, plan)).toBe('pro')
  })

  it('drops a purged document, its IndexedDB copy included, and does not reconnect', async () => {
    const { url, server, plan } = await serverWithPlan()
    const agent = await connectClient(url, 'bo', 'agent', { device: 'purge-device' })
    const contact = agent.contact('c1')
    await Promise.all([contact.whenSynced(), contact.schemaHandle.whenSynced()])
    contact.setValue(plan, 'pro')
    await expect.poll(() => contact.status().saved).toBe(true)
    const localName = 'purge-device:bo:demo/contact/c1'
    await expect
      .poll(async () => (await indexedDB.databases()).map((d) => d.name))
      .toContain(localName)
    const errors: string[] = []
    contact.onError((e) => errors.push(e.code))

    await server.host.erase(['demo/contact/c1'])

    await expect.poll(() => contact.status().purged).toBe(true)
    expect(errors).toContain('deleted')
    expect(contact.read().custom).toEqual({})
    expect(contact.status().status).toBe('offline')
    await expect
      .poll(async () => (await indexedDB.databases()).map((d) => d.name))
      .not.toContain(localName)
    expect(() => contact.setValue(plan, 'free')).toThrowError(
      expect.objectContaining({ code: 'deleted' }),
    )
  })
})
