import { describe, expect, it } from 'vitest'
import { connectClient, startServer } from './harness'

describe('a reload while offline', () => {
  it('counts nothing as unsaved that the server had acknowledged before the reload', async () => {
    const { url } = await startServer()
    const admin = await connectClient(url, 'ana', 'admin')
    const schema = admin.schema()
    await schema.whenSynced()
    schema.schema.createAttribute({ label: 'Team', type: 'text' })
    await expect.poll(() => schema.status().saved).toBe(true)

    const tab = await connectClient(url, 'bo', 'agent', { device: 'laptop' })
    const contact = tab.contact('c1')
    const schemaCopy = tab.schema()
    await Promise.all([contact.whenSynced(), schemaCopy.whenSynced()])
    await expect.poll(() => schemaCopy.status().saved).toBe(true)
    await tab.destroy()

    const again = await connectClient(url, 'bo', 'agent', { device: 'laptop', connect: false })
    const reloaded = again.schema()
    await expect.poll(() => reloaded.status().source).toBe('local')
    expect(reloaded.status()).toMatchObject({ saved: true, pending: 0 })
  })
})
