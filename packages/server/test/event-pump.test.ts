import { describe, expect, it } from 'vitest'
import type { DomainEvent, NewDomainEvent } from '../src/events/domain-event'
import { startEventPump } from '../src/events/event-consumers'
import type { EventConsumer } from '../src/events/event-consumers'
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
