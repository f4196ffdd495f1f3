import { Readable } from 'node:stream'
import type { BlobStore } from './blob-store'

/**
 * Blobs held in memory (tests and the memory backend).
 *
 * @example
 * const blobs = createMemoryBlobStore()
 */
export function createMemoryBlobStore(): BlobStore {
  const blobs = new Map<string, Buffer>()
  return {
    async write(key, source) {
      const parts: Buffer[] = []
      for await (const chunk of source) parts.push(Buffer.from(chunk))
      const data = Buffer.concat(parts)
      blobs.set(key, data)
      return data.byteLength
    },
    async read(key) {
      const data = blobs.get(key)
      return data === undefined ? null : { stream: Readable.from([data]), bytes: data.byteLength }
    },
    async delete(key) {
      blobs.delete(key)
    },
    async list(prefix) {
      return [...blobs.keys()].filter((k) => k.startsWith(prefix))
    },
  }
}
