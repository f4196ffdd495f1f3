import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from './free-port'
import { createRedisCoordination } from '../src/coordination/redis-coordination'
import type {
  RedisCoordination,
  RedisCoordinationOptions,
} from '../src/coordination/redis-coordination'

const REDIS_URL = process.env.CARDFILE_TEST_REDIS ?? 'redis://127.0.0.1:6379'

const opened: RedisCoordination[] = []
const servers: ChildProcess[] = []
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close()
  for (const s of servers.splice(0)) s.kill('SIGKILL')
})

/** Two or more instances' coordinations over one Redis, under a prefix of this test's own. */
async function instances(
  n: number,
  extra: Partial<RedisCoordinationOptions> = {},
): Promise<RedisCoordination[]> {
  const prefix = `cardfile-test-${randomBytes(4).toString('hex')}`
  const list = await Promise.all(
    Array.from({ length: n }, () =>
      createRedisCoordination({ url: REDIS_URL, prefix, onError: () => undefined, ...extra }),
    ),
  )
  opened.push(...list)
  return list
}

/** A Redis server of this test's own, which it may stop and start again on the same port. */
async function privateRedis(port: number): Promise<void> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  )
  servers.push(child)
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 })
  probe.on('error', () => undefined)
  await expect
    .poll(async () => {
      try {
        if (probe.status !== 'ready') await probe.connect()
        return await probe.ping()
      } catch {
        return 'down'
      }
    })
    .toBe('PONG')
  probe.disconnect()
}

describe('Redis coordination', () => {
  it('counts one rate limit across instances', async () => {
    const [a, b] = await instances(2)
    const limitA = a!.rateLimiter('auth', { limit: 3, windowMs: 60_000 })
    const limitB = b!.rateLimiter('auth', { limit: 3, windowMs: 60_000 })
    await limitA.hit('10.0.0.1')
    await limitB.hit('10.0.0.1')
    expect(await limitA.retryAfter('10.0.0.1')).toBe(0)
    await limitA.hit('10.0.0.1')
    // The third failure was on A; B refuses the next try.
    expect(await limitB.retryAfter('10.0.0.1')).toBeGreaterThan(0)
    expect(await limitB.retryAfter('10.0.0.2')).toBe(0)
  })

  it('drops a cached value on every instance when one of them changes it', async () => {
    const [a, b] = await instances(2)
    let stored = 'v1'
    let loadsOnA = 0
    const cacheA = a!.cache<string>('crm-config')
    const cacheB = b!.cache<string>('crm-config')
    const loadA = async () => {
      loadsOnA += 1
      return stored
    }
    expect(await cacheA.get('w1', loadA)).toBe('v1')
    expect(await cacheA.get('w1', loadA)).toBe('v1')
    expect(loadsOnA).toBe(1)
    // B changes the value in the database and says so.
    stored = 'v2'
    cacheB.set('w1', 'v2')
    await expect.poll(() => cacheA.get('w1', loadA)).toBe('v2')
    expect(loadsOnA).toBe(2)
    expect(await cacheB.get('w1', async () => 'never loaded')).toBe('v2')
    stored = 'v3'
    cacheB.invalidate('w1')
    await expect.poll(() => cacheA.get('w1', loadA)).toBe('v3')
    // Other names and keys are untouched.
    expect(await cacheA.get('w2', async () => 'w2')).toBe('w2')
  })

  it('lets one instance at a time hold a lock, and hands it over in turn', async () => {
    const [a, b, c] = await instances(3)
    const log: string[] = []
    let inside = 0
    let overlapped = false
    const work = (who: string) => async () => {
      inside += 1
      if (inside > 1) overlapped = true
      log.push(`${who}+`)
      await new Promise((resolve) => setTimeout(resolve, 30))
      log.push(`${who}-`)
      inside -= 1
      return who
    }
    const results = await Promise.all([
      a!.locks.run('crm/w1/c1', work('a1')),
      b!.locks.run('crm/w1/c1', work('b1')),
      c!.locks.run('crm/w1/c1', work('c1')),
      a!.locks.run('crm/w1/c1', work('a2')),
    ])
    expect(results).toEqual(['a1', 'b1', 'c1', 'a2'])
    expect(overlapped).toBe(false)
    expect(log).toHaveLength(8)
    // A failed task releases the lock too.
    await expect(
      b!.locks.run('crm/w1/c1', async () => {
        throw new Error('task failed')
      }),
    ).rejects.toThrow('task failed')
    expect(await a!.locks.run('crm/w1/c1', async () => 'free')).toBe('free')
  })

  it('takes over a lock whose holder died once its time runs out, and times out before', async () => {
    const prefix = `cardfile-test-${randomBytes(4).toString('hex')}`
    const [impatient] = await instances(1, { prefix, lockWaitMs: 100 })
    const [patient] = await instances(1, { prefix, lockWaitMs: 5000 })
    // A holder that crashed: its key stays until it runs out.
    const raw = new Redis(REDIS_URL)
    try {
      expect(await raw.set(`${prefix}:lock:exports`, 'dead-holder', 'PX', 500, 'NX')).toBe('OK')
    } finally {
      raw.disconnect()
    }
    await expect(impatient!.locks.run('exports', async () => 'got it')).rejects.toMatchObject({
      code: 'timeout',
    })
    const started = Date.now()
    expect(await patient!.locks.run('exports', async () => 'got it')).toBe('got it')
    expect(Date.now() - started).toBeGreaterThan(200)
  })

  it('keeps serving while Redis restarts: no stale cache, local rate limits, then recovers', async () => {
    const port = await freePort()
    await privateRedis(port)
    const url = `redis://127.0.0.1:${port}`
    const [a, b] = await instances(2, { url })
    const cacheA = a!.cache<string>('schema')
    let stored = 'v1'
    let loads = 0
    const load = async () => {
      loads += 1
      return stored
    }
    expect(await cacheA.get('w1', load)).toBe('v1')
    expect(a!.available()).toBe(true)

    servers.splice(0).forEach((s) => s.kill('SIGKILL'))
    await expect.poll(() => a!.available()).toBe(false)
    // While down: every get loads (an invalidation could be missed), limits count locally.
    stored = 'v2'
    expect(await cacheA.get('w1', load)).toBe('v2')
    expect(await cacheA.get('w1', load)).toBe('v2')
    const limit = a!.rateLimiter('auth', { limit: 1, windowMs: 60_000 })
    await limit.hit('10.0.0.9')
    expect(await limit.retryAfter('10.0.0.9')).toBeGreaterThan(0)
    await expect(b!.locks.run('k', async () => 'x')).rejects.toMatchObject({ code: 'unavailable' })

    await privateRedis(port)
    await expect.poll(() => a!.available(), { timeout: 10_000 }).toBe(true)
    await expect.poll(() => b!.available(), { timeout: 10_000 }).toBe(true)
    // Caching again, and invalidations flow again.
    const before = loads
    expect(await cacheA.get('w1', load)).toBe('v2')
    expect(await cacheA.get('w1', load)).toBe('v2')
    expect(loads).toBe(before + 1)
    stored = 'v3'
    b!.cache<string>('schema').invalidate('w1')
    await expect.poll(() => cacheA.get('w1', load)).toBe('v3')
    expect(await b!.locks.run('k', async () => 'x')).toBe('x')
  })

  it('refuses to start without Redis with a typed error', async () => {
    const port = await freePort()
    await expect(
      createRedisCoordination({ url: `redis://127.0.0.1:${port}`, onError: () => undefined }),
    ).rejects.toMatchObject({ code: 'unavailable' })
  })
})
