import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import type { PgDatabase } from '../storage/postgres-database'
import type { BlobStore } from './blob-store'

/** Bytes per stored chunk: big enough for few rows, small enough to hold two in memory. */
const CHUNK_BYTES = 512 * 1024

/** Chunks of writes cut off this long ago (by a crash of any instance) are removed. */
const ABANDONED_MS = 86_400_000

/**
 * Blobs in the database (tables `blobs` and `blob_chunks`), so every server instance can serve
 * a file another one wrote. A write stores its chunks under a write id of its own and then
 * points the blob at them in one transaction, so a blob is whole or absent; a read is one
 * consistent snapshot on a connection of its own, so a blob deleted meanwhile still reads
 * whole to the end.
 *
 * @example
 * const blobs = createPostgresBlobStore(db)
 * await blobs.write('demo/e1.csv', rows)
 */
export function createPostgresBlobStore(db: PgDatabase): BlobStore {
  let swept: Promise<void> | null = null
  // Leftovers of writes cut off by a crash are never visible but take space. Another instance
  // may be writing right now, so only chunks of writes begun long ago go (a write id starts
  // with its start time).
  const sweep = (): Promise<void> =>
    (swept ??= db
      .run(
        `DELETE FROM blob_chunks c
         WHERE split_part(c.write_id, '-', 1)::bigint < $1
           AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.write_id = c.write_id)`,
        [Date.now() - ABANDONED_MS],
      )
      .then(() => undefined))

  return {
    async write(key, source) {
      await sweep()
      const writeId = `${Date.now()}-${randomBytes(8).toString('hex')}`
      let n = 0
      let bytes = 0
      let pending: Buffer[] = []
      let pendingBytes = 0
      const flush = async (): Promise<void> => {
        if (pendingBytes === 0) return
        const data = Buffer.concat(pending)
        pending = []
        pendingBytes = 0
        await db.run('INSERT INTO blob_chunks (write_id, n, data) VALUES ($1, $2, $3)', [
          writeId,
          n,
          data,
        ])
        n += 1
      }
      try {
        for await (const part of source) {
          const chunk = Buffer.from(part)
          pending.push(chunk)
          pendingBytes += chunk.byteLength
          bytes += chunk.byteLength
          if (pendingBytes >= CHUNK_BYTES) await flush()
        }
        await flush()
        await db.transaction(async (tx) => {
          const old = await tx.one<{ write_id: string }>(
            'SELECT write_id FROM blobs WHERE key = $1 FOR UPDATE',
            [key],
          )
          await tx.run(
            `INSERT INTO blobs (key, write_id, bytes, written_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO UPDATE SET write_id = excluded.write_id,
               bytes = excluded.bytes, written_at = excluded.written_at`,
            [key, writeId, bytes, Date.now()],
          )
          if (old !== undefined) {
            await tx.run('DELETE FROM blob_chunks WHERE write_id = $1', [old.write_id])
          }
        })
      } catch (error) {
        await db
          .run('DELETE FROM blob_chunks WHERE write_id = $1', [writeId])
          .catch(() => undefined)
        throw error
      }
      return bytes
    },

    async read(key) {
      const client = await db.connect()
      let released = false
      const release = async (): Promise<void> => {
        if (released) return
        released = true
        try {
          await client.query('COMMIT')
          client.release()
        } catch (error) {
          client.release(error instanceof Error ? error : true)
        }
      }
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        const head = await client.query<{ write_id: string; bytes: number }>(
          'SELECT write_id, bytes FROM blobs WHERE key = $1',
          [key],
        )
        const found = head.rows[0]
        if (found === undefined) {
          await release()
          return null
        }
        let next = 0
        const stream = new Readable({
          async read() {
            try {
              const r = await client.query<{ data: Buffer }>(
                'SELECT data FROM blob_chunks WHERE write_id = $1 AND n = $2',
                [found.write_id, next],
              )
              next += 1
              const data = r.rows[0]?.data
              if (data === undefined) {
                await release()
                this.push(null)
              } else {
                this.push(data)
              }
            } catch (error) {
              this.destroy(error instanceof Error ? error : new Error(String(error)))
            }
          },
          destroy(error, callback) {
            release().then(
              () => callback(error),
              () => callback(error),
            )
          },
        })
        return { stream, bytes: found.bytes }
      } catch (error) {
        released = true
        client.release(true)
        throw error
      }
    },

    async delete(key) {
      await db.transaction(async (tx) => {
        const gone = await tx.one<{ write_id: string }>(
          'DELETE FROM blobs WHERE key = $1 RETURNING write_id',
          [key],
        )
        if (gone !== undefined) {
          await tx.run('DELETE FROM blob_chunks WHERE write_id = $1', [gone.write_id])
        }
      })
    },

    async list(prefix) {
      const rows = await db.rows<{ key: string }>(
        'SELECT key FROM blobs WHERE starts_with(key, $1) ORDER BY key',
        [prefix],
      )
      return rows.map((r) => r.key)
    },
  }
}
