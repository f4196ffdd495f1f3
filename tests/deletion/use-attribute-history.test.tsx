// @vitest-environment jsdom
import { act, renderHook, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { useAttributeHistory } from '@cardfile/react'
import { apiClient, editSchema, ingestFromX, startApiServer } from './harness'
import { wrapper } from './hook-wrapper'

describe('useAttributeHistory', () => {
  it("shows an attribute's changes newest first, live, with who made them, a page at a time", async () => {
    const running = await startApiServer()
    await editSchema(running, (schema) =>
      schema.createAttribute({ id: 'note', label: 'Note', type: 'text' }),
    )
    const { contactId } = await ingestFromX(running, 'x-1', 'anna')
    const agent = await apiClient(running, 'bea', 'agent')
    const handle = agent.contact(contactId)
    await Promise.all([handle.whenSynced(), handle.schemaHandle.whenSynced()])

    const { result } = renderHook(
      () => ({
        note: useAttributeHistory(contactId, 'note', { pageSize: 2, pollMs: 0 }),
        closed: useAttributeHistory(contactId, null),
      }),
      { wrapper: wrapper(agent) },
    )
    await waitFor(() => expect(result.current.note.loading).toBe(false))
    expect(result.current.note.items).toEqual([])
    expect(result.current.closed).toMatchObject({ items: [], loading: false, error: null })

    // Polling is off: the hook follows the contact's document, which this client has open.
    for (const text of ['first', 'second', 'third']) {
      handle.setValue('note', text)
      await waitFor(() => expect(result.current.note.items[0]?.value).toBe(text))
    }
    expect(result.current.note.items.map((c) => [c.previous, c.value])).toEqual([
      ['second', 'third'],
      ['first', 'second'],
    ])
    expect(result.current.note.items[0]?.by).toEqual({ role: 'agent', userId: 'bea' })
    expect(result.current.note.hasMore).toBe(true)
    act(() => result.current.note.loadMore())
    await waitFor(() => expect(result.current.note.items).toHaveLength(3))
    expect(result.current.note.items[2]).toMatchObject({ previous: null, value: 'first' })
    expect(result.current.note.hasMore).toBe(false)
  })
})
