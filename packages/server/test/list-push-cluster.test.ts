import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startCluster } from './cluster-harness'
import type { TestCluster } from './cluster-harness'
import { listSubscriber } from './list-push-helpers'
import type { ListSubscriber } from './list-push-helpers'
import { SYSTEM, connectSynced, fieldValue, makeToken, seedDemo } from './sync-helpers'
import { httpApi } from '../src/http/create-http-api'

const DOC = 'demo/contact/c1'

describe('live lists across instances', () => {
  let cluster: TestCluster
  const subscribers: ListSubscriber[] = []
  beforeEach(async () => {
    cluster = await startCluster(2, { httpHandler: httpApi({ onError: () => undefined }) })
    // Instance 0 loads c1 first, so it owns it: commits happen there.
    await seedDemo(cluster.instances[0]!.server)
  })
  afterEach(async () => {
    for (const s of subscribers.splice(0)) s.close()
    await cluster.close()
  })

  it('a commit on the owner invalidates the lists of a subscriber on another instance, in commit order', async () => {
    const [owner, other] = cluster.instances.map((i) => i.server)
    const agent = await listSubscriber(
      other!,
      'demo',
      await makeToken({ user: 'ana', role: 'agent' }),
    )
    const outsider = await listSubscriber(
      other!,
      'elsewhere',
      await makeToken({ user: 'eve', role: 'agent', workspace: 'elsewhere' }),
    )
    subscribers.push(agent, outsider)
    await agent.subscribe(1, { kind: 'vip' })
    await agent.subscribe(2, { kind: 'contacts', vip: false })
    await outsider.subscribe(1, { kind: 'contacts' })

    const vip = (value: boolean) =>
      owner!.host.transact(DOC, SYSTEM, (doc) =>
        doc.getMap('flags').set('vip', fieldValue(value, SYSTEM)),
      )
    await vip(true)
    await vip(false)
    await agent.waitFor(1, 2)
    await agent.waitFor(2, 2)
    expect(agent.invalidated()).toEqual([1, 2, 1, 2])
    expect(outsider.invalidated()).toEqual([])
  })

  it("a client's change forwarded from a follower reaches subscribers on every instance", async () => {
    const [owner, follower] = cluster.instances.map((i) => i.server)
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const onOwner = await listSubscriber(owner!, 'demo', token)
    const onFollower = await listSubscriber(follower!, 'demo', token)
    subscribers.push(onOwner, onFollower)
    await onOwner.subscribe(1, { kind: 'contacts' })
    await onFollower.subscribe(1, { kind: 'contacts' })
    const writer = await connectSynced(follower!, DOC, token)
    try {
      writer.doc.getMap('custom').set('note', fieldValue('hello', { role: 'agent', userId: 'ana' }))
      await onOwner.waitFor(1)
      await onFollower.waitFor(1)
    } finally {
      writer.close()
    }
  })

  it('a deletion served by one instance ends the subscriptions of the contact on the other', async () => {
    const [owner, other] = cluster.instances.map((i) => i.server)
    const agent = await listSubscriber(
      other!,
      'demo',
      await makeToken({ user: 'ana', role: 'agent' }),
    )
    const admin = await listSubscriber(
      other!,
      'demo',
      await makeToken({ user: 'root', role: 'admin' }),
    )
    subscribers.push(agent, admin)
    await agent.subscribe(1, { kind: 'linked', contactId: 'c1' })
    await agent.subscribe(2, { kind: 'contacts' })
    await admin.subscribe(1, { kind: 'deleted-contacts' })
    const answer = await fetch(`${owner!.url}/api/demo/contacts/c1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await makeToken({ user: 'root', role: 'admin' })}` },
    })
    expect(answer.status).toBe(200)
    await admin.waitFor(1)
    await agent.waitFor(2)
    await expect
      .poll(() =>
        agent.events.some(
          (e) => e.kind === 'state' && e.notice.id === 1 && e.notice.state === 'ended',
        ),
      )
      .toBe(true)
  })
})
