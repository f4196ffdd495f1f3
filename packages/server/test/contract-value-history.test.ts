import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Backend } from '../src/backend'
import type { ValueChange } from '../src/history/value-history'
import { backends } from './backends'
import { allPages, codeOf, contactDoc } from './contract-helpers'
import { contactRow, updateSetting } from './storage-helpers'

const change = (
  contactId: string,
  attributeId: string,
  previous: ValueChange['previous'],
  value: ValueChange['value'],
  at: number,
  workspace = 'w1',
): ValueChange => ({
  workspace,
  contactId,
  attributeId,
  previous,
  value,
  by: { role: 'agent', userId: 'ana' },
  at,
})

describe.each(backends)('%s value history', (_name, open) => {
  let backend: Backend
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ backend, cleanup } = await open())
  })

  afterEach(() => cleanup())

  /** Appends an update of the contact's document carrying `changes`, as a commit does. */
  const commit = (contactId: string, changes: ValueChange[], workspace = 'w1') =>
    backend.documents.append(
      contactDoc(workspace, contactId),
      updateSetting('n', String(changes.length)),
      undefined,
      undefined,
      undefined,
      changes,
    )

  const list = (contactId: string, attributeId: string | null = null, workspace = 'w1') =>
    backend.valueHistory.list(workspace, contactId, { attributeId, limit: 200, cursor: null })

  it('keeps the changes of a commit with who, when and both values, newest first', async () => {
    await commit('c1', [
      change('c1', 'plan', null, 'free', 10),
      change('c1', 'vip', null, true, 10),
    ])
    await commit('c1', [
      { ...change('c1', 'plan', 'free', 'pro', 20), by: { role: 'crm', userId: 'crm' } },
    ])
    await commit('c1', [change('c1', 'plan', 'pro', null, 30)])
    const { items, next } = await list('c1')
    expect(next).toBeNull()
    expect(items.map(({ id: _id, ...rest }) => rest)).toEqual([
      change('c1', 'plan', 'pro', null, 30),
      { ...change('c1', 'plan', 'free', 'pro', 20), by: { role: 'crm', userId: 'crm' } },
      change('c1', 'vip', null, true, 10),
      change('c1', 'plan', null, 'free', 10),
    ])
    const ids = items.map((e) => e.id)
    expect([...ids].sort((a, b) => b - a)).toEqual(ids)
    expect((await list('c1', 'plan')).items.map((e) => e.value)).toEqual([null, 'pro', 'free'])
    expect((await list('c1', 'vip')).items.map((e) => e.value)).toEqual([true])
    expect((await list('c2')).items).toEqual([])
    expect((await list('c1', null, 'w2')).items).toEqual([])
  })

  it('pages through a long history without repeating or skipping a change', async () => {
    for (let i = 0; i < 7; i += 1) {
      await commit('c1', [change('c1', i % 2 === 0 ? 'a' : 'b', String(i), String(i + 1), i)])
    }
    const pages = await allPages(
      (cursor) => backend.valueHistory.list('w1', 'c1', { attributeId: null, limit: 2, cursor }),
      2,
    )
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1])
    expect(pages.flat().map((e) => e.value)).toEqual(['7', '6', '5', '4', '3', '2', '1'])
    const onlyA = await allPages(
      (cursor) => backend.valueHistory.list('w1', 'c1', { attributeId: 'a', limit: 3, cursor }),
      3,
    )
    expect(onlyA.flat().map((e) => e.value)).toEqual(['7', '5', '3', '1'])
  })

  it('stores no change of an append that is refused, since both are one commit', async () => {
    await backend.documents.append(
      contactDoc('w1', 'c1'),
      updateSetting('k', 'v'),
      contactRow('w1', 'c1', { platformUserId: 'same' }),
    )
    const refused = backend.documents.append(
      contactDoc('w1', 'c2'),
      updateSetting('k', 'v'),
      contactRow('w1', 'c2', { platformUserId: 'same' }),
      undefined,
      undefined,
      [change('c2', 'plan', null, 'gold', 5)],
    )
    expect(await codeOf(refused)).toBe('invalid-value')
    expect((await list('c2')).items).toEqual([])
    await backend.documents.erase([contactDoc('w1', 'c3')])
    expect(await codeOf(commit('c3', [change('c3', 'plan', null, 'gold', 5)]))).toBe('deleted')
    expect((await list('c3')).items).toEqual([])
  })

  it("erases one contact's history and nothing else", async () => {
    await commit('c1', [change('c1', 'plan', null, 'gold', 1)])
    await commit('c2', [change('c2', 'plan', null, 'pro', 2)])
    await commit('c1', [change('c1', 'plan', null, 'pro', 3, 'w2')], 'w2')
    await backend.valueHistory.eraseContact('w1', 'c1')
    expect((await list('c1')).items).toEqual([])
    expect((await list('c2')).items.map((e) => e.value)).toEqual(['pro'])
    expect((await list('c1', null, 'w2')).items.map((e) => e.value)).toEqual(['pro'])
  })

  it('refuses a malformed cursor and a limit out of range', async () => {
    const page = (limit: number, cursor: string | null) =>
      backend.valueHistory.list('w1', 'c1', { attributeId: null, limit, cursor })
    expect(await codeOf(page(10, 'not-a-cursor'))).toBe('bad-request')
    expect(await codeOf(page(10, '0'))).toBe('bad-request')
    expect(await codeOf(page(0, null))).toBe('bad-request')
    expect(await codeOf(page(201, null))).toBe('bad-request')
  })
})
