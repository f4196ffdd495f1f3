import type { Readable } from 'node:stream'

/**
 * Where large generated files live (export CSVs): written once from a stream, read back as a
 * stream, deleted when their job is removed or a contact they hold is erased. The filesystem
 * store is the default; a store shared by several instances (a network folder, an object store)
 * fits the same interface.
 */
export interface BlobStore {
  /**
   * Writes `source` under `key`, replacing what was there, and resolves its size in bytes. The
   * blob appears whole or not at all: a crash mid-write leaves no partial blob under `key`.
   */
  write(key: string, source: AsyncIterable<Uint8Array | string>): Promise<number>
  /** The blob as a stream, or null when there is none. */
  read(key: string): Promise<{ readonly stream: Readable; readonly bytes: number } | null>
  /** Deletes the blob (nothing when there is none). */
  delete(key: string): Promise<void>
  /** Keys of the blobs whose key starts with `prefix`. */
  list(prefix: string): Promise<string[]>
}
