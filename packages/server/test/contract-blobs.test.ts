import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { afterEach, describe, expect, it } from 'vitest'
import type { BlobStore } from '../src/blobs/blob-store'
import { createFsBlobStore } from '../src/blobs/fs-blob-store'
import { createMemoryBlobStore } from '../src/blobs/memory-blob-store'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const stores: [string, () => { store: BlobStore; files: () => string[] }][] = [
  ['memory', () => ({ store: createMemoryBlobStore(), files: () => [] })],
  [
    'filesystem',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cardfile-blobs-'))
      dirs.push(dir)
      const folder = join(dir, 'blobs')
      return { store: createFsBlobStore(folder), files: () => readdirSync(folder) }
    },
  ],
]

async function* parts(...chunks: string[]): AsyncGenerator<string> {
  for (const chunk of chunks) yield chunk
}

async function* failing(): AsyncGenerator<string> {
  yield 'half a file'
  throw new Error('the source broke off')
}

describe.each(stores)('%s blob store', (_name, factory) => {
  it('writes a blob from a stream, reads it back, replaces, lists and deletes it', async () => {
    const { store } = factory()
    expect(await store.write('acme-e1.csv', parts('id\n', 'c1\n'))).toBe(6)
    await store.write('other-e2.csv', parts('x'))
    const read = await store.read('acme-e1.csv')
    expect(read?.bytes).toBe(6)
    expect(await text(read!.stream)).toBe('id\nc1\n')
    await store.write('acme-e1.csv', parts('id\n'))
    expect(await text((await store.read('acme-e1.csv'))!.stream)).toBe('id\n')
    expect(await store.list('acme-')).toEqual(['acme-e1.csv'])
    await store.delete('acme-e1.csv')
    await store.delete('acme-e1.csv')
    expect(await store.read('acme-e1.csv')).toBeNull()
  })

  it('leaves nothing of a write whose source fails, and keeps the blob it would replace', async () => {
    const { store, files } = factory()
    await store.write('acme-e1.csv', parts('whole'))
    await expect(store.write('acme-e1.csv', failing())).rejects.toThrow('broke off')
    await expect(store.write('acme-e2.csv', failing())).rejects.toThrow('broke off')
    expect(await text((await store.read('acme-e1.csv'))!.stream)).toBe('whole')
    expect(await store.read('acme-e2.csv')).toBeNull()
    expect(files().filter((f) => f !== 'acme-e1.csv')).toEqual([])
  })

  it('reads a blob opened before it was deleted to the end', async () => {
    const { store } = factory()
    await store.write('acme-e1.csv', parts('a'.repeat(100_000)))
    const read = await store.read('acme-e1.csv')
    await store.delete('acme-e1.csv')
    expect((await text(read!.stream)).length).toBe(100_000)
  })
})
