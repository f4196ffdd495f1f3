import { describe, expect, it } from 'vitest'
import { createRateLimiter } from '../src/coordination/rate-limiter'

describe('createRateLimiter', () => {
  it('allows up to the limit per window, then says how long to wait', () => {
    const limiter = createRateLimiter({ limit: 2, windowMs: 60_000 })
    limiter.hit('a', 1_000)
    expect(limiter.retryAfter('a', 1_000)).toBe(0)
    limiter.hit('a', 2_000)
    expect(limiter.retryAfter('a', 2_000)).toBe(59)
    expect(limiter.retryAfter('b', 2_000)).toBe(0)
  })

  it('opens a fresh window once the old one has passed', () => {
    const limiter = createRateLimiter({ limit: 1, windowMs: 1_000 })
    limiter.hit('a', 0)
    expect(limiter.retryAfter('a', 999)).toBe(1)
    expect(limiter.retryAfter('a', 1_000)).toBe(0)
    limiter.hit('a', 1_000)
    expect(limiter.retryAfter('a', 1_500)).toBe(1)
  })

  it('forgets the oldest keys beyond its bound', () => {
    const limiter = createRateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 2 })
    limiter.hit('a', 0)
    limiter.hit('b', 0)
    limiter.hit('c', 0)
    expect(limiter.retryAfter('a', 1)).toBe(0)
    expect(limiter.retryAfter('b', 1)).toBeGreaterThan(0)
    expect(limiter.retryAfter('c', 1)).toBeGreaterThan(0)
  })
})
