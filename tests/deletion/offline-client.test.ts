import { describe, expect, it } from 'vitest'
import { apiJson, contactDocName, conversationDocName } from '@cardfile/core'
import { connectClient } from '../client/harness'
import { WORKSPACE, apiClient, ingest, startApiServer } from './harness'

const localNames = async (): Promise<(string | undefined)[]> =>
  (await indexedDB.databases()).map((d) => d.name)

describe('a client that was offline while its contact was deleted', () => {
  it('is told to purge on reconnect, drops its local copy, and its stale edits never bring the contact back', async () => {
    const running = await startApiServer()
    const admin = await apiClient(running, 'ana', 'admin', { name: 'Ana' })
    const schema = admin.schema()
    await schema.whenSynced()
    const note = schema.schema.createAttribute({ label: 'Note', type: 'text' }).id
    await expect.poll(() => schema.status().saved).toBe(true)
    const { contactId, conversationId } = await ingest(running, {
      channel: 'x',
      platformUserId: 'x-42',
      metadata: { x_handle: '@wanda' },
      message: { text: 'hello' },
    })

    // An agent's device holds the contact, then goes offline and keeps editing.
    const agent = await connectClient(running.wsUrl, 'bo', 'agent', { device: 'laptop' })
    const contact = agent.contact(contactId)
    await Promise.all([contact.whenSynced(), contact.schemaHandle.whenSynced()])
    contact.setValue(note, 'seen online')
    await expect.poll(() => contact.status().saved).toBe(true)
    const localName = `laptop:bo:${contactDocName(WORKSPACE, contactId)}`
    await expect.poll(localNames).toContain(localName)
    agent.disconnect()
    contact.setValue(note, 'typed while offline')
    expect(contact.status().pending).toBeGreaterThan(0)
    const errors: string[] = []
    contact.onError((e) => errors.push(e.code))

    const answer = await apiJson<{ deleted: { hint: string } }>(
      admin,
      `/api/${WORKSPACE}/contacts/${contactId}`,
      { method: 'DELETE' },
    )
    expect(answer.deleted.hint).toBe('@wa***a')

    agent.connect()
    await expect.poll(() => contact.status().purged).toBe(true)
    expect(errors).toContain('deleted')
    expect(contact.read().custom).toEqual({})
    expect(contact.read().profile).toBeNull()
    await expect.poll(localNames).not.toContain(localName)

    // The server kept the contact deleted: nothing of the stale edit was stored or indexed.
    const name = contactDocName(WORKSPACE, contactId)
    expect(await running.backend.documents.isErased(name)).toBe(true)
    expect(await running.backend.documents.load(name)).toEqual([])
    expect(
      await running.backend.documents.isErased(conversationDocName(WORKSPACE, conversationId)),
    ).toBe(true)
    expect(await running.backend.index.findContact(WORKSPACE, 'x', 'x-42')).toBeNull()

    // A new page load on the same device finds no local copy either.
    const later = await connectClient(running.wsUrl, 'bo', 'agent', {
      device: 'laptop',
      connect: false,
    })
    const reopened = later.contact(contactId)
    await expect.poll(() => reopened.status().localLoaded).toBe(true)
    expect(reopened.read().profile).toBeNull()
    expect(reopened.read().custom).toEqual({})
  })

  it('purges a connected client at once when an admin deletes the contact', async () => {
    const running = await startApiServer()
    const admin = await apiClient(running, 'ana', 'admin')
    const { contactId } = await ingest(running, {
      channel: 'sms',
      platformUserId: '+15550100777',
      metadata: { phone_number: '+15550100777' },
      message: { text: 'hello' },
    })
    const agent = await connectClient(running.wsUrl, 'bo', 'agent')
    const contact = agent.contact(contactId)
    await contact.whenSynced()
    expect(contact.read().profile?.hint).toBe('***0777')
    await apiJson(admin, `/api/${WORKSPACE}/contacts/${contactId}`, { method: 'DELETE' })
    await expect.poll(() => contact.status().purged).toBe(true)
    expect(contact.read().profile).toBeNull()
  })
})
