import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Backend } from '../src/backend'
import { backends } from './backends'
import { codeOf } from './contract-helpers'
import { contactRow, rebuild } from './storage-helpers'

const DOC = 'w1/contact/c1'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** One small update per call, setting `key` in map m, each from a replica of its own (so a
 * refused one leaves no gap that later ones depend on). */
function edits(): (key: string) => Uint8Array {
  return (key) => {
    const doc = new Y.Doc()
    doc.getMap('m').set(key, key)
    return Y.encodeStateAsUpdate(doc)
  }
}

const keysOf = (parts: readonly Uint8Array[]): string[] =>
  Object.keys(rebuild(parts).getMap('m').toJSON()).sort()

describe.each(backends)('%s document owners', (_name, open) => {
  let backend: Backend
  let cleanup: () => Promise<void>
  beforeEach(async () => {
    ;({ backend, cleanup } = await open())
  })
  afterEach(() => cleanup())

  it('gives a free document to the first claimer, renews it for them and refuses the others', async () => {
    const a = await backend.owners.claim(DOC, 'instance-a', 10_000)
    expect(a).toMatchObject({ claimed: true, epoch: 1 })
    const b = await backend.owners.claim(DOC, 'instance-b', 10_000)
    expect(b).toMatchObject({ claimed: false, owner: 'instance-a', epoch: 1 })
    // Claiming again is a renewal: the epoch stays.
    expect(await backend.owners.claim(DOC, 'instance-a', 10_000)).toMatchObject({
      claimed: true,
      epoch: 1,
    })
    expect(await backend.owners.renew(DOC, 'instance-a', 1, 10_000)).toBe(true)
    expect(await backend.owners.renew(DOC, 'instance-b', 1, 10_000)).toBe(false)
    expect(await backend.owners.renew(DOC, 'instance-a', 2, 10_000)).toBe(false)
    expect(await backend.owners.current(DOC)).toMatchObject({ owner: 'instance-a', epoch: 1 })
    // Other documents are separate.
    expect(await backend.owners.claim('w1/contact/c2', 'instance-b', 10_000)).toMatchObject({
      claimed: true,
      epoch: 1,
    })
  })

  it('hands a released or run-out document over under a higher epoch', async () => {
    await backend.owners.claim(DOC, 'instance-a', 10_000)
    await backend.owners.release(DOC, 'instance-b', 1) // not theirs: nothing happens
    expect(await backend.owners.current(DOC)).toMatchObject({ owner: 'instance-a' })
    await backend.owners.release(DOC, 'instance-a', 1)
    expect(await backend.owners.current(DOC)).toBeNull()
    expect(await backend.owners.claim(DOC, 'instance-b', 150)).toMatchObject({
      claimed: true,
      epoch: 2,
    })
    await sleep(250)
    expect(await backend.owners.current(DOC)).toBeNull()
    expect(await backend.owners.renew(DOC, 'instance-b', 2, 10_000)).toBe(false)
    expect(await backend.owners.claim(DOC, 'instance-a', 10_000)).toMatchObject({
      claimed: true,
      epoch: 3,
    })
    // Even its last holder comes back under a new epoch once the lease ran out.
    await backend.owners.release(DOC, 'instance-a', 3)
    expect(await backend.owners.claim(DOC, 'instance-a', 10_000)).toMatchObject({ epoch: 4 })
  })

  it('refuses an append under a stale epoch or a run-out lease and stores nothing of it', async () => {
    const edit = edits()
    const a = await backend.owners.claim(DOC, 'instance-a', 200)
    expect(a.claimed).toBe(true)
    const fenceA = { owner: 'instance-a', epoch: 1 }
    await backend.documents.append(DOC, edit('by-a'), contactRow('w1', 'c1'), [], fenceA)
    // Instance A is paused past its lease; B takes over.
    await sleep(300)
    expect(
      await codeOf(backend.documents.append(DOC, edit('late-a'), undefined, undefined, fenceA)),
    ).toBe('fenced')
    const b = await backend.owners.claim(DOC, 'instance-b', 10_000)
    expect(b).toMatchObject({ claimed: true, epoch: 2 })
    expect(
      await codeOf(
        backend.documents.append(
          DOC,
          edit('stale-a'),
          contactRow('w1', 'c1', { hint: 'stale' }),
          [],
          fenceA,
        ),
      ),
    ).toBe('fenced')
    await backend.documents.append(DOC, edit('by-b'), undefined, undefined, {
      owner: 'instance-b',
      epoch: 2,
    })
    expect(keysOf(await backend.documents.load(DOC))).toEqual(['by-a', 'by-b'])
    // The refused append's index row did not land either.
    const row = await backend.index.findContact('w1', 'whatsapp', 'pu-c1')
    expect(row?.hint).toBe('hint-c1')
    // A fenced append never affects the others of its group.
    const [stale, fresh] = await Promise.allSettled([
      backend.documents.append(DOC, edit('stale-2'), undefined, undefined, fenceA),
      backend.documents.append('w1/contact/c2', edit('other')),
    ])
    expect(stale.status).toBe('rejected')
    expect(fresh.status).toBe('fulfilled')
  })
})
