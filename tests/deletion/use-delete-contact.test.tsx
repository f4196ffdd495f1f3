// @vitest-environment jsdom
import { act, renderHook, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { ContactDoc, SchemaDoc, contactDocName, schemaDocName } from '@cardfile/core'
import { useDeleteContact, useDeletedContacts } from '@cardfile/react'
import { WORKSPACE, apiClient, editSchema, ingest, ingestFromX, startApiServer } from './harness'
import { wrapper } from './hook-wrapper'

describe('useDeleteContact', () => {
  it('deletes a contact as an admin, and the deleted-contacts list shows it newest first', async () => {
    const running = await startApiServer()
    const admin = await apiClient(running, 'ana', 'admin', { name: 'Ana Admin' })
    const first = await ingestFromX(running, 'x-1', 'anna')
    const second = await ingest(running, {
      channel: 'instagram',
      platformUserId: 'ig-2',
      metadata: { instagram_username: 'bruno' },
      message: { text: 'hi' },
    })
    const { result } = renderHook(
      () => ({ remove: useDeleteContact(), log: useDeletedContacts({ pageSize: 1 }) }),
      { wrapper: wrapper(admin) },
    )
    await waitFor(() => expect(result.current.remove.canDelete).toBe(true))
    await waitFor(() => expect(result.current.log.loading).toBe(false))
    expect(result.current.log.items).toEqual([])

    await act(async () => {
      const record = await result.current.remove.deleteContact(first.contactId)
      expect(record).toMatchObject({ hint: '@an***a', channel: 'x' })
    })
    await act(async () => {
      await result.current.remove.deleteContact(second.contactId)
    })
    expect(result.current.remove.pending).toBe(false)
    // The list refreshed after the deletions: newest first, one per page.
    await waitFor(() => expect(result.current.log.items.map((r) => r.hint)).toEqual(['@br***o']))
    expect(result.current.log.hasMore).toBe(true)
    act(() => result.current.log.loadMore())
    await waitFor(() =>
      expect(result.current.log.items.map((r) => r.hint)).toEqual(['@br***o', '@an***a']),
    )
    expect(result.current.log.hasMore).toBe(false)
    expect(result.current.log.items[0]?.deletedBy).toEqual({ userId: 'ana', name: 'Ana Admin' })
    expect(await running.backend.index.findContact(WORKSPACE, 'x', 'x-1')).toBeNull()
  })

  it('tells an agent it may not delete, and the server refuses if it tries', async () => {
    const running = await startApiServer()
    const agent = await apiClient(running, 'bo', 'agent')
    const { contactId } = await ingestFromX(running, 'x-3', 'carla')
    const { result } = renderHook(
      () => ({ remove: useDeleteContact(), log: useDeletedContacts() }),
      { wrapper: wrapper(agent) },
    )
    await waitFor(() => expect(result.current.log.loading).toBe(false))
    expect(result.current.remove.canDelete).toBe(false)
    expect(result.current.log.error?.code).toBe('forbidden')
    await act(async () => {
      await expect(result.current.remove.deleteContact(contactId)).rejects.toMatchObject({
        code: 'forbidden',
      })
    })
    expect(result.current.remove.error?.code).toBe('forbidden')
    expect(await running.backend.index.findContact(WORKSPACE, 'x', 'x-3')).not.toBeNull()
  })

  it('deletes the person on every channel with { linked: true }, one record per contact', async () => {
    const running = await startApiServer()
    await editSchema(running, (schema) => {
      schema.createAttribute({ id: 'customer_id', label: 'Customer id', type: 'text' })
      schema.updateSettings({ matchingAttribute: 'customer_id' })
    })
    const mail = await ingest(running, {
      channel: 'email',
      platformUserId: 'dana@example.com',
      metadata: { email: 'dana@example.com' },
      message: { text: 'hi' },
    })
    const chat = await ingest(running, {
      channel: 'whatsapp',
      platformUserId: '+15550100123',
      metadata: { phone_number: '+15550100123' },
      message: { text: 'hi again' },
    })
    const system = { userId: 'system', role: 'system' } as const
    const view = await running.server.host.read(schemaDocName(WORKSPACE), (doc) => {
      const schema = new SchemaDoc(doc)
      try {
        return schema.view()
      } finally {
        schema.destroy()
      }
    })
    for (const { contactId } of [mail, chat]) {
      await running.server.host.transact(contactDocName(WORKSPACE, contactId), system, (doc) => {
        const contact = new ContactDoc(doc, contactId)
        contact.setValue('customer_id', 'D-1', system, view)
        contact.destroy()
      })
    }
    const admin = await apiClient(running, 'ana', 'admin', { name: 'Ana Admin' })
    const { result } = renderHook(
      () => ({ remove: useDeleteContact(), log: useDeletedContacts() }),
      { wrapper: wrapper(admin) },
    )
    await waitFor(() => expect(result.current.remove.canDelete).toBe(true))
    await act(async () => {
      const answer = await result.current.remove.deleteContact(mail.contactId, { linked: true })
      expect(answer).toMatchObject({ channel: 'email' })
      expect(answer.linked.map((r) => r.channel)).toEqual(['whatsapp'])
    })
    // The log refreshed after the deletion: one record per contact.
    await waitFor(() =>
      expect(result.current.log.items.map((r) => r.channel).sort()).toEqual(['email', 'whatsapp']),
    )
    expect(
      await running.backend.index.findContact(WORKSPACE, 'email', 'dana@example.com'),
    ).toBeNull()
    expect(
      await running.backend.index.findContact(WORKSPACE, 'whatsapp', '+15550100123'),
    ).toBeNull()
    expect(chat.contactId).not.toBe(mail.contactId)
  })
})
