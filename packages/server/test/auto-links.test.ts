import { describe, expect, it } from 'vitest'
import { autoLinkEvents } from '../src/linking/auto-links'
import type { AutoLinkInput, MatchChange } from '../src/linking/auto-links'

const classes = (entries: Record<string, string[]>) => new Map(Object.entries(entries))

const pairsOf = (input: Omit<AutoLinkInput, 'workspace' | 'actor' | 'at'>) =>
  autoLinkEvents({ workspace: 'w', actor: null, at: 1, ...input }).map((e) =>
    e.type === 'contact.linked' ? `${e.data.kind} ${e.subject}-${e.data.other}` : e.type,
  )

describe('automatic links of a transaction', () => {
  it('links a contact that takes a value to each live member of its class, and unlinks it from the class it left', () => {
    const changes: MatchChange[] = [{ id: 'c', before: 'x', after: 'y' }]
    expect(
      pairsOf({
        changes,
        before: classes({ x: ['a', 'c'], y: ['b', 'd'] }),
        after: classes({ x: ['a'], y: ['b', 'c', 'd'] }),
        records: [],
      }),
    ).toEqual(['link c-b', 'link c-d', 'unlink c-a'])
  })

  it('tells nothing of a pair that moves to another value together, or of a value shared by too many', () => {
    expect(
      pairsOf({
        changes: [
          { id: 'a', before: 'x', after: 'y' },
          { id: 'b', before: 'x', after: 'y' },
        ],
        before: classes({ x: ['a', 'b'], y: [] }),
        after: classes({ x: [], y: ['a', 'b'] }),
        records: [],
      }),
    ).toEqual([])
    expect(
      pairsOf({
        changes: [{ id: 'c', before: null, after: 'x' }],
        before: classes({ x: ['a', 'b'] }),
        after: classes({ x: ['a', 'b', 'c'] }),
        records: [],
        maxClass: 2,
      }),
    ).toEqual([])
  })

  it('leaves out detached contacts and pairs linked by hand, and tells of pairs a change of detachment makes', () => {
    // d was unlinked by hand from a: it is out of a's class; b and c are linked by hand.
    const records = [
      { a: 'a', b: 'd', kind: 'unlink' as const, subject: 'd' },
      { a: 'b', b: 'c', kind: 'link' as const, subject: 'c' },
    ]
    expect(
      pairsOf({
        changes: [
          { id: 'c', before: null, after: 'x' },
          { id: 'd', before: null, after: 'x' },
        ],
        before: classes({ x: ['a', 'b'] }),
        after: classes({ x: ['a', 'b', 'c', 'd'] }),
        records,
      }),
    ).toEqual(['link c-a'])
    // a leaves: d is no longer detached within the class, and links to b and c.
    expect(
      pairsOf({
        changes: [{ id: 'a', before: 'x', after: null }],
        before: classes({ x: ['a', 'b', 'c', 'd'] }),
        after: classes({ x: ['b', 'c', 'd'] }),
        records,
      }),
    ).toEqual(['link d-b', 'link d-c', 'unlink a-b', 'unlink a-c'])
  })
})
