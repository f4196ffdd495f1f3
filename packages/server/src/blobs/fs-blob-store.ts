import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { BlobStore } from './blob-store'

/** Keys become file names: anything but [A-Za-z0-9._-] is escaped, so a key never leaves the folder. */
const fileName = (key: string): string =>
  key.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)

const keyOf = (file: string): string =>
  file.replace(/%([0-9a-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))

/**
 * Blobs as files in one folder (created with mode 700): each written to a temporary name and
 * renamed into place, so a blob is whole or absent.
 *
 * @example
 * const blobs = createFsBlobStore('./cardfile.db-exports')
 * await blobs.write('demo/e1.csv', rows)
 */
export function createFsBlobStore(dir: string): BlobStore {
  let ready: Promise<void> | null = null
  const ensureDir = (): Promise<void> =>
    (ready ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(async () => {
      // Leftovers of writes cut off by a crash.
      for (const file of await readdir(dir)) {
        if (file.startsWith('.tmp-')) await rm(join(dir, file), { force: true })
      }
    }))
  return {
    async write(key, source) {
      await ensureDir()
      const target = join(dir, fileName(key))
      const temp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`)
      try {
        await pipeline(Readable.from(source), createWriteStream(temp, { mode: 0o600 }))
        await rename(temp, target)
      } catch (error) {
        await rm(temp, { force: true })
        throw error
      }
      return (await stat(target)).size
    },
    async read(key) {
      await ensureDir()
      // Opened before resolving: a blob deleted after this (an erasure) still reads whole to
      // the end instead of cutting a download off mid-way.
      let handle
      try {
        handle = await open(join(dir, fileName(key)), 'r')
      } catch {
        return null
      }
      try {
        const { size } = await handle.stat()
        return { stream: handle.createReadStream(), bytes: size }
      } catch (error) {
        await handle.close()
        throw error
      }
    },
    async delete(key) {
      await ensureDir()
      await rm(join(dir, fileName(key)), { force: true })
    },
    async list(prefix) {
      await ensureDir()
      return (await readdir(dir))
        .filter((f) => !f.startsWith('.tmp-'))
        .map(keyOf)
        .filter((k) => k.startsWith(prefix))
    },
  }
}
