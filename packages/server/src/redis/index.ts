/**
 * @cardfile/server/redis: coordination of several server instances through Redis (the
 * `ioredis` client, an optional peer dependency): shared rate limits, locks and cache
 * invalidation. Apart from the root entry so that a single instance never loads the client.
 */
export type {
  RedisCoordination,
  RedisCoordinationOptions,
} from '../coordination/redis-coordination'
export { createRedisCoordination } from '../coordination/redis-coordination'
