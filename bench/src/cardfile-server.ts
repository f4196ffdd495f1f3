import { createCardfileServer, signToken } from '@cardfile/server'
import type { Backend } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { BENCH_ADMIN_ID, BENCH_AGENT_ID } from './contact-edits'
import { BENCH_SECRET, BENCH_WORKSPACE } from './ipc'
import type { BenchTokens } from './ipc'

/**
 * Messages per second per connection. The default (100) is a policy against abusive clients;
 * the throughput phase floods on purpose to find what the relay sustains, so it is lifted here
 * and only here. Every other limit keeps its default.
 */
const BENCH_MESSAGES_PER_SECOND = 1_000_000

export interface RunningCardfile {
  readonly url: string
  readonly tokens: BenchTokens
  close(): Promise<void>
}

/**
 * The backend of the benchmark's Cardfile: SQLite at `path` (every commit fsynced, as served
 * by default; BENCH_SQLITE_SYNCHRONOUS=normal leaves the fsync to checkpoints), or, with
 * BENCH_BACKEND=postgres, a fresh schema in the database at BENCH_POSTGRES_URL (default: the
 * local server), dropped when the server closes; BENCH_BACKEND=memory keeps nothing (what the
 * relay and its checks cost without storage).
 */
async function openBackend(path: string): Promise<{ backend: Backend; drop(): Promise<void> }> {
  const engine = process.env.BENCH_BACKEND ?? 'sqlite'
  if (engine === 'memory') {
    const { createMemoryBackend } = await import('@cardfile/server/memory')
    return { backend: createMemoryBackend(), drop: async () => undefined }
  }
  if (engine === 'sqlite') {
    const synchronous = process.env.BENCH_SQLITE_SYNCHRONOUS === 'normal' ? 'normal' : 'full'
    return { backend: createSqliteBackend({ path, synchronous }), drop: async () => undefined }
  }
  if (engine !== 'postgres')
    throw new Error(`BENCH_BACKEND must be sqlite, postgres or memory: "${engine}"`)
  const { createPostgresBackend } = await import('@cardfile/server/postgres')
  const url = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  // Instances of one cluster share a schema, which the benchmark made and drops itself.
  const shared = process.env.BENCH_POSTGRES_SCHEMA
  const schema = shared ?? `cardfile_bench_${process.pid}_${Date.now()}`
  const backend = await createPostgresBackend({ url, schema })
  return {
    backend,
    drop: async () => {
      if (shared !== undefined) return
      const pg = (await import('pg')).default
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await client.end()
    },
  }
}

/**
 * Starts a Cardfile server on 127.0.0.1 (storage: see BENCH_BACKEND) and mints the tokens the
 * benchmark's clients use.
 *
 * @example
 * const server = await startCardfile('/tmp/bench/bench.db')
 */
export async function startCardfile(path: string): Promise<RunningCardfile> {
  const { backend, drop } = await openBackend(path)
  // One instance of several: BENCH_REDIS_URL names the Redis they share (BENCH_REDIS_PREFIX
  // keeps runs apart).
  const redisUrl = process.env.BENCH_REDIS_URL
  const coordination =
    redisUrl === undefined
      ? undefined
      : await (
          await import('@cardfile/server/redis')
        ).createRedisCoordination({
          url: redisUrl,
          prefix: process.env.BENCH_REDIS_PREFIX ?? 'cardfile-bench',
        })
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    ...(coordination === undefined ? {} : { coordination }),
    auth: { secret: BENCH_SECRET },
    host: '127.0.0.1',
    port: 0,
    limits: { messagesPerSecond: BENCH_MESSAGES_PER_SECOND },
  })
  const token = (userId: string, role: 'admin' | 'agent'): Promise<string> =>
    signToken({ secret: BENCH_SECRET, userId, workspace: BENCH_WORKSPACE, role, expiresIn: '2h' })
  return {
    url: server.wsUrl,
    tokens: {
      agent: await token(BENCH_AGENT_ID, 'agent'),
      admin: await token(BENCH_ADMIN_ID, 'admin'),
    },
    close: async () => {
      await server.close()
      await coordination?.close()
      await backend.close()
      await drop()
    },
  }
}
