import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { afterEach, describe, expect, it } from 'vitest'
import type { BlobStore } from '../src/blobs/blob-store'
import { createFsBlobStore } from '../src/blobs/fs-blob-store'
import { createMemoryBlobStore } from '../src/blobs/memory-blob-store'
import { createPostgresBlobStore } from '../src/blobs/postgres-blob-store'
import { openTestDatabase } from './postgres-test-db'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

interface OpenStore {
  readonly store: BlobStore
  /** What the store keeps underneath (file names, chunk keys): leftovers show up here. */
  files(): Promise<string[]>
}

const stores: [string, () => Promise<OpenStore>][] = [
  ['memory', async () => ({ store: createMemoryBlobStore(), files: async () => [] })],
  [
    'filesystem',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cardfile-blobs-'))
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
      const folder = join(dir, 'blobs')
      return { store: createFsBlobStore(folder), files: async () => readdirSync(folder) }
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const { db, cleanup } = await openTestDatabase()
      cleanups.push(cleanup)
      return {
        store: createPostgresBlobStore(db),
        files: async () =>
          (
            await db.rows<{ key: string }>(
              `SELECT key FROM blobs UNION ALL SELECT DISTINCT write_id FROM blob_chunks c
               WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.write_id = c.write_id)`,
            )
          ).map((r) => r.key),
      }
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
    const { store } = await factory()
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
    const { store, files } = await factory()
    await store.write('acme-e1.csv', parts('whole'))
    await expect(store.write('acme-e1.csv', failing())).rejects.toThrow('broke off')
    await expect(store.write('acme-e2.csv', failing())).rejects.toThrow('broke off')
    expect(await text((await store.read('acme-e1.csv'))!.stream)).toBe('whole')
    expect(await store.read('acme-e2.csv')).toBeNull()
    expect((await files()).filter((f) => f !== 'acme-e1.csv')).toEqual([])
  })

  it('reads a blob opened before it was deleted to the end', async () => {
    const { store } = await factory()
    await store.write('acme-e1.csv', parts('a'.repeat(100_000)))
    const read = await store.read('acme-e1.csv')
    await store.delete('acme-e1.csv')
    expect((await text(read!.stream)).length).toBe(100_000)
  })

  it('streams a blob of many megabytes whole, under a key with any characters', async () => {
    const { store, files } = await factory()
    const key = 'acme/ä b%2F..\\e3.csv'
    async function* big(): AsyncGenerator<string> {
      for (let i = 0; i < 3000; i += 1) yield `${String(i).padStart(6, '0')},${'x'.repeat(992)}\n`
    }
    expect(await store.write(key, big())).toBe(3_000_000)
    expect(await store.list('acme/')).toEqual([key])
    const read = await store.read(key)
    expect(read?.bytes).toBe(3_000_000)
    const body = await text(read!.stream)
    expect(body.length).toBe(3_000_000)
    expect(body.slice(-1000, -994)).toBe('002999')
    await store.delete(key)
    expect(await store.list('acme/')).toEqual([])
    expect(await files()).toEqual([])
  })
})
