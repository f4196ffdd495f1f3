import { createCardfileServer, createLocalCoordination, httpApi } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import type { Coordination } from '@cardfile/server'
import { describe, expect, it } from 'vitest'
import { SECRET, makeToken } from './sync-helpers'

/** Every implementation of the coordination interfaces passes the same contract. */
const implementations: Array<[string, () => Coordination]> = [
  ['in-process', createLocalCoordination],
]

describe.each(implementations)('coordination (%s)', (_name, create) => {
  it('runs tasks of one key one after another, and tasks of other keys beside them', async () => {
    const { locks } = create()
    const order: string[] = []
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const first = locks.run('k', async () => {
      order.push('first starts')
      await gate
      order.push('first ends')
    })
    const second = locks.run('k', async () => {
      order.push('second')
      return 42
    })
    const other = locks.run('other', async () => {
      order.push('other')
    })
    await other
    expect(order).toEqual(['first starts', 'other'])
    release()
    expect(await second).toBe(42)
    await first
    expect(order).toEqual(['first starts', 'other', 'first ends', 'second'])
  })

  it('runs the next task of a key after one that failed', async () => {
    const { locks } = create()
    await expect(locks.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await locks.run('k', async () => 'after')).toBe('after')
  })

  it('counts events per key in a window and says how long to wait past the limit', async () => {
    const limiter = create().rateLimiter('test', { limit: 2, windowMs: 60_000 })
    const now = 1_000_000
    await limiter.hit('a', now)
    expect(await limiter.retryAfter('a', now)).toBe(0)
    await limiter.hit('a', now)
    expect(await limiter.retryAfter('a', now + 1000)).toBe(59)
    expect(await limiter.retryAfter('b', now)).toBe(0)
    expect(await limiter.retryAfter('a', now + 60_000)).toBe(0)
  })

  it('loads a cached value once, forgets it when invalidated, and never keeps a failed load', async () => {
    const cache = create().cache<string>('test')
    let loads = 0
    const load = async () => `v${++loads}`
    expect(await cache.get('k', load)).toBe('v1')
    expect(await cache.get('k', load)).toBe('v1')
    cache.invalidate('k')
    expect(await cache.get('k', load)).toBe('v2')
    cache.set('k', 'set')
    expect(await cache.get('k', load)).toBe('set')
    await expect(cache.get('bad', () => Promise.reject(new Error('down')))).rejects.toThrow()
    expect(await cache.get('bad', load)).toBe('v3')
  })
})

describe('a server given its coordination', () => {
  it('takes locks and rate limits from it rather than keeping its own', async () => {
    const local = createLocalCoordination()
    const keys: string[] = []
    const limiters: string[] = []
    const coordination: Coordination = {
      locks: {
        run: (key, task) => {
          keys.push(key)
          return local.locks.run(key, task)
        },
      },
      rateLimiter: (name, options) => {
        limiters.push(name)
        return local.rateLimiter(name, options)
      },
      cache: (name) => local.cache(name),
    }
    const backend = createMemoryBackend()
    const server = await createCardfileServer({
      autoCreateWorkspaces: 'advanced',
      backend,
      auth: { secret: SECRET },
      httpHandler: httpApi(),
      coordination,
    })
    try {
      const token = await makeToken({ user: 'ingest', role: 'system' })
      const answer = await fetch(`${server.url}/api/demo/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          channel: 'sms',
          platformUserId: '+15550100123',
          metadata: {},
          message: { text: 'hello' },
        }),
      })
      expect(answer.status).toBe(200)
      // One new channel identity creates one contact, under a lock every instance shares.
      expect(keys.some((k) => k.includes('+15550100123'))).toBe(true)
      expect(limiters).toContain('http-auth-failures')
    } finally {
      await server.close()
      await backend.close()
    }
  })
})
