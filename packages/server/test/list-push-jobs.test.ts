import { afterEach, describe, expect, it } from 'vitest'
import type { Role } from '@cardfile/core'
import { CrmCallError } from '../src/crm/adapter'
import type { CrmAdapter } from '../src/crm/adapter'
import { signToken } from '../src/tokens'
import { SECRET, WS, startHarness } from './linking-harness'
import type { Harness } from './linking-harness'
import { gatedJob, listSubscriber } from './list-push-helpers'
import type { ListSubscriber } from './list-push-helpers'
import { makeToken, startServer } from './sync-helpers'

let h: Harness | undefined
const subscribers: ListSubscriber[] = []
afterEach(async () => {
  for (const s of subscribers.splice(0)) s.close()
  await h?.close()
  h = undefined
})

async function subscriber(role: Role, userId = `${role}-1`) {
  const token = await signToken({ secret: SECRET, userId, workspace: WS, role })
  const s = await listSubscriber(h!.server, WS, token)
  subscribers.push(s)
  return s
}

/** Uploads a CSV import as an admin; resolves the job's id. */
async function upload(csv: string): Promise<string> {
  const token = await signToken({ secret: SECRET, userId: 'admin-1', workspace: WS, role: 'admin' })
  const response = await fetch(`${h!.url}/api/${WS}/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body: csv,
  })
  expect(response.status).toBe(202)
  return ((await response.json()) as { job: { id: string } }).job.id
}

const jobState = async (id: string, role: Role = 'admin'): Promise<unknown> => {
  const { status, json } = await h!.api(role, 'GET', `/jobs/${id}`)
  return status === 200 ? (json.job as { state: string }).state : status
}

const times = (s: ListSubscriber, id: number) => s.invalidated().filter((i) => i === id).length

describe('live job lists', () => {
  it("pushes a re-link's steps to admins and agents, and an import's only to admins", async () => {
    h = await startHarness()
    for (let i = 0; i < 3; i++) {
      await h.inbound({ channel: 'whatsapp', platformUserId: `+1415555010${i}` })
    }
    const admin = await subscriber('admin')
    const agent = await subscriber('agent')
    expect((await admin.subscribe(1, { kind: 'jobs', jobKind: 'relink' })).state).toBe('active')
    expect((await agent.subscribe(1, { kind: 'jobs', jobKind: 'relink' })).state).toBe('active')
    expect((await admin.subscribe(2, { kind: 'jobs', jobKind: 'contact-import' })).state).toBe(
      'active',
    )
    expect(await agent.subscribe(2, { kind: 'jobs', jobKind: 'contact-import' })).toMatchObject({
      state: 'refused',
      code: 'forbidden',
    })
    // Deliveries carry contacts' values: they have no view, and no list of them as jobs.
    expect(await admin.subscribe(3, { kind: 'jobs', jobKind: 'crm-delivery' })).toMatchObject({
      state: 'refused',
      code: 'bad-request',
    })

    const relink = await h.api('admin', 'POST', '/relink')
    expect(relink.status).toBe(202)
    const relinkId = (relink.json.job as { id: string }).id
    await expect.poll(() => jobState(relinkId, 'agent')).toBe('done')
    // Queued, taken, done (and any step between), each to both.
    await admin.waitFor(1, 3)
    await agent.waitFor(1, 3)

    const importId = await upload('channel,platformUserId\nsms,+15550001\nsms,+15550002\n')
    expect(await agent.subscribe(3, { kind: 'job', jobId: importId })).toMatchObject({
      state: 'refused',
      code: 'not-found',
    })
    expect((await admin.subscribe(4, { kind: 'job', jobId: importId })).state).toBe('active')
    await expect.poll(() => jobState(importId)).toBe('done')
    await admin.waitFor(2, 3)
    // The route answers the agent as the subscription did.
    expect(await jobState(importId, 'agent')).toBe(404)
    expect(agent.invalidated().filter((id) => id !== 1)).toEqual([])
  })
})

describe('a job its worker loses', () => {
  it('is announced to its followers when the worker finds it cancelled', async () => {
    const gated = gatedJob(1)
    const server = await startServer({ extensions: [gated.extension] })
    const context = gated.context()
    try {
      const job = await context.enqueue({ kind: 'gated', workspace: 'demo', input: {} })
      const agent = await listSubscriber(
        server.server,
        'demo',
        await makeToken({ user: 'a', role: 'agent' }),
      )
      subscribers.push(agent)
      await agent.subscribe(1, { kind: 'job', jobId: job.id })
      await expect.poll(() => gated.waiting()).toBe(true)
      const seen = times(agent, 1)
      // Cancelled behind the runner's back: nothing announces it but the worker's next step.
      await context.backend.jobs.cancel({ workspace: 'demo', ids: [job.id] }, 'test')
      gated.release()
      await agent.waitFor(1, seen + 1)
      expect((await context.backend.jobs.get(job.id))?.state).toBe('cancelled')
    } finally {
      await server.close()
    }
  })
})

describe('the live list of CRM deliveries', () => {
  it("shows admins a delivery that died, another admin's retry and its success, never agents", async () => {
    let failing = true
    const adapter: CrmAdapter = {
      requiresUrls: false,
      async lookup() {
        return { found: false }
      },
      async deliver() {
        if (failing) throw new CrmCallError('status', 'The CRM answered 422', false, 422)
      },
    }
    h = await startHarness({ crm: { adapter } })
    expect((await h.api('admin', 'PUT', '/crm/config', { enabled: true })).status).toBe(200)
    const admin = await subscriber('admin')
    const agent = await subscriber('agent')
    expect((await admin.subscribe(1, { kind: 'crm-deliveries', state: 'dead' })).state).toBe(
      'active',
    )
    expect((await admin.subscribe(2, { kind: 'crm-deliveries', state: 'delivered' })).state).toBe(
      'active',
    )
    expect(await agent.subscribe(1, { kind: 'crm-deliveries' })).toMatchObject({
      state: 'refused',
      code: 'forbidden',
    })

    await h.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    await admin.waitFor(1)
    const dead = await h.api('admin', 'GET', '/crm/deliveries?state=dead')
    const [delivery] = dead.json.items as { id: string; state: string }[]
    expect(delivery?.state).toBe('dead')
    // Not as a job either: a delivery has no view.
    expect(await agent.subscribe(2, { kind: 'job', jobId: delivery!.id })).toMatchObject({
      state: 'refused',
      code: 'not-found',
    })
    expect(times(admin, 2)).toBe(0)

    failing = false
    const before = times(admin, 1)
    const retried = await h.api(
      'admin',
      'POST',
      `/crm/deliveries/${delivery!.id}/retry`,
      undefined,
      'admin-2',
    )
    expect(retried.status).toBe(202)
    // It left the dead letter, then the CRM accepted it.
    await admin.waitFor(1, before + 1)
    await admin.waitFor(2)
    const delivered = await h.api('admin', 'GET', '/crm/deliveries?state=delivered')
    expect((delivered.json.items as { id: string }[]).map((d) => d.id)).toEqual([delivery!.id])
    expect((await h.api('admin', 'GET', '/crm/deliveries?state=dead')).json.items).toEqual([])
    expect(agent.invalidated()).toEqual([])
  })
})
