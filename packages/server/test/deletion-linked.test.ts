import { contactDocName, conversationDocName } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import {
  WORKSPACE,
  api,
  createAttribute,
  ingest,
  setValues,
  startPrivacyServer,
  tokenFor,
  updateSchema,
} from './deletion-harness'
import { connectSynced, expectPoll } from './sync-helpers'

interface DeletedRecord {
  readonly hint: string
  readonly channel: string
  readonly deletedBy: { readonly userId: string }
}

describe('deleting a contact with its linked contacts', () => {
  it('erases the person on every channel in one action, one audit record and purge per contact', async () => {
    const running = await startPrivacyServer()
    const customerId = await createAttribute(running, { label: 'Customer id', type: 'text' })
    await updateSchema(running, (s) => s.updateSettings({ matchingAttribute: customerId }))
    const email = await ingest(running, {
      channel: 'email',
      platformUserId: 'ana@example.com',
      metadata: { email: 'ana@example.com' },
      message: { text: 'Hello by mail' },
    })
    const sms = await ingest(running, {
      channel: 'sms',
      platformUserId: '+15550100001',
      metadata: { phone_number: '+15550100001' },
      message: { text: 'Hello by text' },
    })
    const x = await ingest(running, {
      channel: 'x',
      platformUserId: 'x-ana',
      metadata: { x_handle: '@ana' },
      message: { text: 'Hello on X' },
    })
    const stranger = await ingest(running, {
      channel: 'sms',
      platformUserId: '+15550100999',
      metadata: { phone_number: '+15550100999' },
      message: { text: 'Someone else' },
    })
    // Linked by the matching attribute (email and SMS) and by hand (X).
    await setValues(running, email.contactId, { [customerId]: 'C-77' })
    await setValues(running, sms.contactId, { [customerId]: 'C-77' })
    const admin = await tokenFor('admin', 'ana-admin', 'Ana Admin')
    const linked = await api(
      running,
      'POST',
      `/api/${WORKSPACE}/contacts/${email.contactId}/links`,
      admin,
      {
        contactId: x.contactId,
        kind: 'link',
      },
    )
    expect(linked.status).toBeLessThan(300)
    const group = await api(
      running,
      'GET',
      `/api/${WORKSPACE}/contacts/${email.contactId}/linked`,
      admin,
    )
    expect((group.json.items as { id: string }[]).map((c) => c.id).sort()).toEqual(
      [sms.contactId, x.contactId].sort(),
    )

    // Clients that hold each of them.
    const agentToken = await tokenFor('agent')
    const clients = await Promise.all(
      [email, sms, x].map((c) =>
        connectSynced(running.server, contactDocName(WORKSPACE, c.contactId), agentToken),
      ),
    )

    expect(
      (
        await api(
          running,
          'DELETE',
          `/api/${WORKSPACE}/contacts/${email.contactId}?linked=yes`,
          admin,
        )
      ).status,
    ).toBe(400)
    const refused = await api(
      running,
      'DELETE',
      `/api/${WORKSPACE}/contacts/${email.contactId}?linked=true`,
      agentToken,
    )
    expect(refused.status).toBe(403)

    const answer = await api(
      running,
      'DELETE',
      `/api/${WORKSPACE}/contacts/${email.contactId}?linked=true`,
      admin,
    )
    expect(answer.status).toBe(200)
    expect(answer.json.deleted).toMatchObject({
      channel: 'email',
      deletedBy: { userId: 'ana-admin' },
    })
    const others = answer.json.linked as DeletedRecord[]
    expect(others.map((r) => r.channel).sort()).toEqual(['sms', 'x'])

    for (const c of [email, sms, x]) {
      expect(await running.backend.documents.isErased(contactDocName(WORKSPACE, c.contactId))).toBe(
        true,
      )
      expect(
        await running.backend.documents.isErased(conversationDocName(WORKSPACE, c.conversationId)),
      ).toBe(true)
      const history = await running.backend.valueHistory.list(WORKSPACE, c.contactId, {
        attributeId: null,
        limit: 10,
        cursor: null,
      })
      expect(history.items).toEqual([])
    }
    for (const client of clients) {
      await expectPoll(() => client.purges.length > 0 && client.closeInfo !== null)
      expect(client.closeInfo?.code).toBe(4410)
    }
    // One audit record per contact erased, and the stranger untouched.
    const log = await api(running, 'GET', `/api/${WORKSPACE}/deleted-contacts?limit=10`, admin)
    expect((log.json.items as DeletedRecord[]).map((r) => r.channel).sort()).toEqual([
      'email',
      'sms',
      'x',
    ])
    const contacts = await api(running, 'GET', `/api/${WORKSPACE}/contacts?limit=10`, admin)
    expect((contacts.json.items as { id: string }[]).map((c) => c.id)).toEqual([stranger.contactId])

    const again = await api(
      running,
      'DELETE',
      `/api/${WORKSPACE}/contacts/${email.contactId}?linked=true`,
      admin,
    )
    expect(again.status).toBe(410)
  })

  it('deletes only the contact when it has no linked contacts', async () => {
    const running = await startPrivacyServer()
    const alone = await ingest(running, {
      channel: 'email',
      platformUserId: 'bo@example.com',
      metadata: { email: 'bo@example.com' },
      message: { text: 'Hi' },
    })
    const answer = await api(
      running,
      'DELETE',
      `/api/${WORKSPACE}/contacts/${alone.contactId}?linked=true`,
      await tokenFor('admin'),
    )
    expect(answer.status).toBe(200)
    expect(answer.json.linked).toEqual([])
    expect(answer.json.deleted).toMatchObject({ channel: 'email' })
  })
})
