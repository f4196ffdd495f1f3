import { SchemaDoc, contactDocName, schemaDocName } from '@cardfile/core'
import type { WorkspaceSettings } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import {
  AGENT,
  SYSTEM,
  WORKSPACE,
  connect,
  inbound,
  setStatus,
  setUpWorkspace,
  startCardfile,
  startCrm,
} from './harness'
import type { Cardfile } from './harness'

interface Sent {
  readonly type: string
  readonly contact: { readonly standard?: Record<string, string> }
}

const editSchema = (cardfile: Cardfile, change: (schema: SchemaDoc) => void) =>
  cardfile.server.host.transact(schemaDocName(WORKSPACE), SYSTEM, (doc) => {
    const schema = new SchemaDoc(doc)
    change(schema)
    schema.destroy()
  })

const settings = (cardfile: Cardfile, patch: Partial<WorkspaceSettings>) =>
  editSchema(cardfile, (schema) => schema.updateSettings(patch))

const markVip = (cardfile: Cardfile, contactId: string, vip: boolean) =>
  cardfile.server.host.transact(contactDocName(WORKSPACE, contactId), AGENT, (doc) => {
    doc.getMap('flags').set('vip', {
      value: vip,
      by: { role: AGENT.role, userId: AGENT.userId, at: Date.now() },
    })
  })

describe('VIP in CRM requests', () => {
  it('carries the VIP standing under the VIP attribute alias in lookups, write-backs and notifications, and none while VIP is off', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile)
    await connect(cardfile, crm, { notifications: true })
    const sent = () => crm.received().map((r) => r.body as Sent)
    const last = (type: string) =>
      sent()
        .filter((b) => b.type === type)
        .at(-1)

    const { contactId, conversationId } = await inbound(cardfile, 'ana@example.com')
    await expect.poll(() => last('lookup')?.contact.standard).toEqual({ vip: 'false' })
    expect(last('notification')?.contact.standard).toEqual({ vip: 'false' })

    // Marked VIP, and the admin renamed VIP's alias: the CRM hears it under the new key.
    await markVip(cardfile, contactId, true)
    await editSchema(cardfile, (schema) => schema.updateAttribute('vip', { alias: 'is_vip' }))
    const lookup = await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}/lookup`, {
      method: 'POST',
    })
    expect(lookup.status).toBe(200)
    expect(last('lookup')?.contact.standard).toEqual({ is_vip: 'true' })
    await setStatus(cardfile, conversationId, 'pending')
    await expect.poll(() => last('notification')?.contact.standard).toEqual({ is_vip: 'true' })

    // VIP switched off: nobody is VIP, and the CRM is told nothing about it.
    await settings(cardfile, { vipEnabled: false })
    await setStatus(cardfile, conversationId, 'resolved')
    await expect
      .poll(() => sent().filter((b) => b.type === 'notification').length)
      .toBeGreaterThanOrEqual(3)
    expect(last('notification')?.contact.standard).toEqual({})
    await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}/lookup`, { method: 'POST' })
    expect(last('lookup')?.contact.standard).toEqual({})

    await settings(cardfile, { vipEnabled: true })
    await cardfile.api(`/api/${WORKSPACE}/contacts/${contactId}/lookup`, { method: 'POST' })
    expect(last('lookup')?.contact.standard).toEqual({ is_vip: 'true' })
  })

  it('carries VIP in a write-back of CRM-managed values', async () => {
    const crm = await startCrm()
    const cardfile = await startCardfile()
    await setUpWorkspace(cardfile, { agentsMayEditCrm: true })
    await connect(cardfile, crm)
    const { contactId, conversationId } = await inbound(cardfile, 'kim@example.com')
    await markVip(cardfile, contactId, true)
    await cardfile.server.host.transact(contactDocName(WORKSPACE, contactId), AGENT, (doc) => {
      doc.getMap('custom').set('account', {
        value: 'AC-77',
        by: { role: AGENT.role, userId: AGENT.userId, at: Date.now() },
      })
    })
    await setStatus(cardfile, conversationId, 'pending')
    await expect
      .poll(() =>
        crm
          .received()
          .map((r) => r.body as Sent & { values?: Record<string, string> })
          .find((b) => b.type === 'write-back'),
      )
      .toMatchObject({ values: { account: 'AC-77' }, contact: { standard: { vip: 'true' } } })
  })
})
