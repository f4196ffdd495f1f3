import { randomBytes } from 'node:crypto'
import { createCardfileServer } from '@cardfile/server'
import type { CardfileServer, CardfileServerOptions } from '@cardfile/server'
import type { Backend } from '../src/backend'
import { createRedisCoordination } from '../src/coordination/redis-coordination'
import type { RedisCoordination } from '../src/coordination/redis-coordination'
import { createPostgresBackend } from '../src/storage/postgres-backend'
import { dropSchema, freshSchema, postgresUrl } from './postgres-test-db'
import { SECRET } from './sync-helpers'

export const REDIS_URL = process.env.CARDFILE_TEST_REDIS ?? 'redis://127.0.0.1:6379'

/** One in-process instance of a cluster: its own backend pool, Redis connections and server. */
export interface ClusterInstance {
  readonly server: CardfileServer
  readonly backend: Backend
  readonly coordination: RedisCoordination
  close(): Promise<void>
}

export interface TestCluster {
  readonly instances: ClusterInstance[]
  readonly schema: string
  close(): Promise<void>
}

/** Silent, unless CARDFILE_TEST_LOG is set: then the instances' logs go to stderr. */
const quiet = process.env.CARDFILE_TEST_LOG
  ? {
      warn: (message: string, context?: unknown) => console.error('warn', message, context),
      error: (message: string, context?: unknown) => console.error('error', message, context),
      info: (message: string, context?: unknown) => console.error('info', message, context),
    }
  : { warn: () => undefined, error: () => undefined, info: () => undefined }

/**
 * `count` server instances sharing one fresh PostgreSQL schema and one Redis key prefix: the
 * cluster as a load balancer would see it, in one process (the process-level fault tests start
 * real processes instead).
 */
export async function startCluster(
  count: number,
  options: Partial<CardfileServerOptions> = {},
): Promise<TestCluster> {
  const schema = freshSchema()
  const prefix = `cf-test-${randomBytes(4).toString('hex')}`
  const instances: ClusterInstance[] = []
  for (let i = 0; i < count; i++) {
    const backend = await createPostgresBackend({
      url: postgresUrl(),
      schema,
      maxConnections: 4,
      logger: quiet,
    })
    const coordination = await createRedisCoordination({
      url: REDIS_URL,
      prefix,
      onError: () => undefined,
    })
    const server = await createCardfileServer({
      autoCreateWorkspaces: 'advanced',
      auth: { secret: SECRET },
      logger: quiet,
      ownerLeaseMs: 1500,
      ...options,
      backend,
      coordination,
    })
    let closed = false
    instances.push({
      server,
      backend,
      coordination,
      async close() {
        if (closed) return
        closed = true
        await server.close()
        await coordination.close()
        await backend.close()
      },
    })
  }
  return {
    instances,
    schema,
    async close() {
      await Promise.all(instances.map((instance) => instance.close()))
      await dropSchema(schema)
    },
  }
}
