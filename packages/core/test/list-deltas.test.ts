import { describe, expect, it } from 'vitest'
import { applyConversationRow } from '../src/client/list-deltas'

const row = (id: string, patch: Record<string, unknown> = {}) => ({
  kind: 'conversation',
  workspace: 'demo',
  id,
  contactId: 'c1',
  channel: 'sms',
  status: 'new',
  team: null,
  priority: 0,
  createdAt: Number(id.slice(1)),
  updatedAt: 0,
  ...patch,
})
const ids = (items: unknown[] | null) => items?.map((i) => (i as { id: string }).id)
const QUEUE = { kind: 'queue', team: null } as const

describe('a pushed conversation row applied to a loaded list', () => {
  it('goes where the queue order puts it: priority first, then oldest first', () => {
    const items = [row('v1'), row('v2'), row('v4')]
    expect(ids(applyConversationRow(QUEUE, items, row('v3'), true))).toEqual([
      'v1',
      'v2',
      'v3',
      'v4',
    ])
    expect(ids(applyConversationRow(QUEUE, items, row('v9', { priority: 5 }), true))).toEqual([
      'v9',
      'v1',
      'v2',
      'v4',
    ])
  })

  it('moves a row that changed and drops one that left the list', () => {
    const items = [row('v1'), row('v2'), row('v3')]
    expect(ids(applyConversationRow(QUEUE, items, row('v3', { priority: 1 }), true))).toEqual([
      'v3',
      'v1',
      'v2',
    ])
    expect(
      ids(applyConversationRow(QUEUE, items, row('v2', { status: 'resolved' }), true)),
    ).toEqual(['v1', 'v3'])
    expect(ids(applyConversationRow(QUEUE, items, row('v2', { team: 'billing' }), true))).toEqual([
      'v1',
      'v3',
    ])
  })

  it('leaves a row that sorts past the loaded rows to the page it is on', () => {
    const items = [row('v1'), row('v2')]
    expect(ids(applyConversationRow(QUEUE, items, row('v7'), false))).toEqual(['v1', 'v2'])
    expect(ids(applyConversationRow(QUEUE, items, row('v7'), true))).toEqual(['v1', 'v2', 'v7'])
  })

  it("orders a contact's conversations newest first and filters by status", () => {
    const query = { kind: 'conversations', contactId: 'c1' } as const
    const items = [row('v5'), row('v2')]
    expect(ids(applyConversationRow(query, items, row('v3'), true))).toEqual(['v5', 'v3', 'v2'])
    expect(ids(applyConversationRow(query, items, row('v3', { contactId: 'c2' }), true))).toEqual([
      'v5',
      'v2',
    ])
    const resolved = { kind: 'conversations', status: ['resolved'] } as const
    expect(ids(applyConversationRow(resolved, items, row('v3'), true))).toEqual(['v5', 'v2'])
  })

  it('ignores what is not a conversation row, and lists that are not of conversations', () => {
    expect(applyConversationRow(QUEUE, [], { id: 'v1' }, true)).toBeNull()
    expect(applyConversationRow(QUEUE, [], null, true)).toBeNull()
    expect(applyConversationRow({ kind: 'vip' }, [], row('v1'), true)).toBeNull()
  })
})
