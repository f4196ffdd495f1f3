import type { BlobStore } from '../src/blobs/blob-store'

/**
 * A blob store on a slow disk: every chunk written waits `ms` first, so an export of a few
 * hundred rows is still running when a test looks (or kills the process).
 */
export function slowDisk(ms: number): (inner: BlobStore) => BlobStore {
  return (inner) => ({
    ...inner,
    write: (key, source) =>
      inner.write(
        key,
        (async function* () {
          for await (const chunk of source) {
            await new Promise((resolve) => setTimeout(resolve, ms))
            yield chunk
          }
        })(),
      ),
  })
}
