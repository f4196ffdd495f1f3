import { describe, expect, it } from 'vitest'
import type { DomainEvent, NewDomainEvent } from '../src/events/domain-event'
import { startEventPump } from '../src/events/event-consumers'
import type { EventConsumer } from '../src/events/event-consumers'
import type { EventStore } from '../src/events/event-store'
import { createMemoryEventStore } from '../src/events/memory-event-store'
import { JobLostError, startJobRunner } from '../src/jobs/job-runner'
import { createMemoryJobStore } from '../src/jobs/memory-job-store'

const quiet = { info: () => {}, warn: () => {}, error: () => {} }

const vip = (subject: string): NewDomainEvent => ({
  type: 'contact.vip-changed',
  workspace: 'ws',
  subject,
  actor: null,
  data: { vip: true },
  at: Date.now(),
})

const recorder = (name: string, fail: (e: DomainEvent) => boolean = () => false) => {
  const seen: string[] = []
  const consumer: EventConsumer = {
    name,
    types: ['contact.vip-changed'],
    async handle(event) {
      if (fail(event)) throw new Error('boom')
      seen.push(event.subject)
    },
  }
  return { seen, consumer }
}

describe('event pump', () => {
  it('delivers each event to every consumer in order and resumes from the cursor', async () => {
    const store = createMemoryEventStore()
    const a = recorder('a')
    let pump = startEventPump({ store, consumers: [a.consumer], owner: 'p1', logger: quiet })
    await pump.settled()
    await store.publish([vip('c1'), vip('c2')])
    pump.poke()
    await pump.settled()
    expect(a.seen).toEqual(['c1', 'c2'])
    await pump.stop()
    // Published while no process ran: the next one picks up from the cursor.
    await store.publish([vip('c3')])
    const b = recorder('a')
    pump = startEventPump({ store, consumers: [b.consumer], owner: 'p2', logger: quiet })
    await pump.settled()
    expect(b.seen).toEqual(['c3'])
    await pump.stop()
  })

  it('retries a failing handler and skips its event after the last attempt', async () => {
    const store = createMemoryEventStore()
    let failures = 0
    const r = recorder('r', (e) => e.subject === 'bad' && ++failures > 0)
    const pump = startEventPump({
      store,
      consumers: [r.consumer],
      owner: 'p1',
      logger: quiet,
      maxAttempts: 3,
      retryDelayMs: 1,
    })
    await pump.settled()
    await store.publish([vip('bad'), vip('good')])
    pump.poke()
    await pump.settled()
    expect(failures).toBe(3)
    expect(r.seen).toEqual(['good'])
    await pump.stop()
  })
})

/** The store with a count of its writes (claims and cursor moves). */
const counted = (store: EventStore) => {
  const writes = { claim: 0, advance: 0 }
  const wrapped: EventStore = {
    ...store,
    claim: (...args) => {
      writes.claim += 1
      return store.claim(...args)
    },
    advance: (...args) => {
      writes.advance += 1
      return store.advance(...args)
    },
  }
  return { writes, store: wrapped }
}

const other = (subject: string): NewDomainEvent => ({
  type: 'contact.changed',
  workspace: 'ws',
  subject,
  actor: null,
  data: { custom: ['note'], platform: [], created: false },
  at: Date.now(),
})

describe('event pump bookkeeping', () => {
  it('writes nothing for events a consumer skips, and stores its cursor when it stops', async () => {
    const memory = createMemoryEventStore()
    const { writes, store } = counted(memory)
    const a = recorder('a')
    let pump = startEventPump({ store, consumers: [a.consumer], owner: 'p1', logger: quiet })
    await pump.settled()
    const before = { ...writes }
    for (let i = 0; i < 5; i++) {
      await memory.publish([other(`skip${i}`)])
      pump.poke()
      await pump.settled()
    }
    expect(writes).toEqual(before)
    await pump.stop()
    // The next process starts after the skipped events, not before them.
    await memory.publish([vip('after')])
    const b = recorder('a')
    const seen: string[] = []
    pump = startEventPump({
      store: memory,
      consumers: [{ ...b.consumer, types: ['contact.vip-changed', 'contact.changed'] }],
      owner: 'p2',
      logger: quiet,
    })
    await pump.settled()
    seen.push(...b.seen)
    expect(seen).toEqual(['after'])
    await pump.stop()
  })

  it('a consumer seen for the first time handles what is committed once the pump started', async () => {
    const store = createMemoryEventStore()
    await store.publish([vip('before')])
    const a = recorder('new-consumer')
    const pump = startEventPump({ store, consumers: [a.consumer], owner: 'p1', logger: quiet })
    await pump.started()
    await store.publish([vip('after')])
    pump.poke()
    await pump.settled()
    expect(a.seen).toEqual(['after'])
    await pump.stop()
  })

  it('stores the cursor once per batch of handled events', async () => {
    const memory = createMemoryEventStore()
    const { writes, store } = counted(memory)
    const a = recorder('a')
    const pump = startEventPump({ store, consumers: [a.consumer], owner: 'p1', logger: quiet })
    await pump.settled()
    const before = writes.advance
    await memory.publish([vip('c1'), vip('c2'), vip('c3')])
    pump.poke()
    await pump.settled()
    expect(a.seen).toEqual(['c1', 'c2', 'c3'])
    expect(writes.advance - before).toBe(1)
    await pump.stop()
  })

  it('claims every consumer in one write when it starts and gives them up in one when it stops', async () => {
    const memory = createMemoryEventStore()
    const calls = { claim: 0, claimAll: 0, advance: 0, release: 0 }
    const store: EventStore = {
      ...memory,
      claim: (...args) => (calls.claim++, memory.claim(...args)),
      claimAll: (...args) => (calls.claimAll++, memory.claimAll(...args)),
      advance: (...args) => (calls.advance++, memory.advance(...args)),
      release: (...args) => (calls.release++, memory.release(...args)),
    }
    const consumers = ['a', 'b', 'c'].map((name) => recorder(name))
    const pump = startEventPump({
      store,
      consumers: consumers.map((r) => r.consumer),
      owner: 'p1',
      logger: quiet,
    })
    await pump.started()
    expect(calls).toEqual({ claim: 0, claimAll: 1, advance: 0, release: 0 })
    // Skipped by every consumer: their cursors move in memory only, until they stop.
    await memory.publish([other('skipped')])
    pump.poke()
    await pump.settled()
    await pump.stop()
    expect(calls).toEqual({ claim: 0, claimAll: 1, advance: 0, release: 1 })
    // Given up where they got to: another process takes each at once, after the skipped event.
    const [skipped] = await memory.read(0, 1)
    expect(await memory.claimAll(['a', 'b', 'c'], 'p2', 30_000)).toEqual(
      ['a', 'b', 'c'].map(() => ({ cursor: skipped!.seq })),
    )
  })

  it('claims each consumer on its own when claiming them all at once fails', async () => {
    const memory = createMemoryEventStore()
    const store: EventStore = {
      ...memory,
      claimAll: () => Promise.reject(new Error('claims refused')),
    }
    const a = recorder('a')
    const b = recorder('b')
    const pump = startEventPump({
      store,
      consumers: [a.consumer, b.consumer],
      owner: 'p1',
      logger: quiet,
    })
    await pump.started()
    await memory.publish([vip('c1')])
    pump.poke()
    await pump.settled()
    expect([a.seen, b.seen]).toEqual([['c1'], ['c1']])
    await pump.stop()
  })

  it('claims the stream again once a cursor move finds its lease lost', async () => {
    const memory = createMemoryEventStore()
    let lose = false
    const claims: number[] = []
    const store: EventStore = {
      ...memory,
      claim: async (...args) => {
        const lease = await memory.claim(...args)
        claims.push(lease?.cursor ?? -1)
        return lease
      },
      claimAll: async (...args) => {
        const leases = await memory.claimAll(...args)
        claims.push(...leases.map((lease) => lease?.cursor ?? -1))
        return leases
      },
      // The lease ran out while this process stalled: the move is refused, nothing stored.
      advance: async (...args) => (lose ? ((lose = false), false) : memory.advance(...args)),
    }
    const a = recorder('a')
    const pump = startEventPump({ store, consumers: [a.consumer], owner: 'p1', logger: quiet })
    await pump.settled()
    expect(claims).toHaveLength(1)
    lose = true
    await memory.publish([vip('c1')])
    pump.poke()
    await pump.settled()
    await memory.publish([vip('c2')])
    pump.poke()
    await pump.settled()
    // Claimed again from the stored cursor: the effect whose move was refused runs again.
    expect(claims).toHaveLength(2)
    expect(a.seen).toEqual(['c1', 'c1', 'c2'])
    await pump.stop()
  })
})

describe('job runner', () => {
  it('runs due jobs, stores their results, and retries failures', async () => {
    const store = createMemoryJobStore()
    let calls = 0
    const runner = startJobRunner({
      store,
      owner: 'w1',
      logger: quiet,
      handlers: [
        {
          kind: 'flaky',
          retryAfter: (attempts) => (attempts < 2 ? 1 : null),
          async run({ job }) {
            calls += 1
            if (job.attempts === 1) throw new Error('first try fails')
            return { ok: job.input }
          },
        },
      ],
    })
    const job = await store.enqueue({ kind: 'flaky', workspace: 'ws', input: 7 })
    runner.poke()
    await new Promise((resolve) => setTimeout(resolve, 20))
    await runner.settled()
    expect(calls).toBe(2)
    expect(await store.get(job.id)).toMatchObject({ state: 'done', result: { ok: 7 } })
    await runner.stop()
  })

  it('stops a job that was cancelled while it ran', async () => {
    const store = createMemoryJobStore()
    let lost = false
    let markStarted = (): void => {}
    const started = new Promise<void>((resolve) => (markStarted = resolve))
    const runner = startJobRunner({
      store,
      owner: 'w1',
      logger: quiet,
      handlers: [
        {
          kind: 'long',
          async run(context) {
            markStarted()
            for (let i = 0; ; i += 1) {
              await new Promise((resolve) => setTimeout(resolve, 5))
              try {
                await context.progress({ i })
              } catch (error) {
                lost = error instanceof JobLostError
                throw error
              }
            }
          },
        },
      ],
    })
    const job = await store.enqueue({ kind: 'long', workspace: 'ws', input: null })
    runner.poke()
    await started
    await store.cancel({ workspace: 'ws', kind: 'long' }, 'superseded')
    await runner.settled()
    expect(lost).toBe(true)
    expect(await store.get(job.id)).toMatchObject({ state: 'cancelled' })
    await runner.stop()
  })
})
