import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createCardfileClient, encodeListSubscribe, schemaDocName } from '@cardfile/core'
import type { CardfileClient, IndexedContact, ListQuery } from '@cardfile/core'
import { signToken } from '../src/tokens'
import { SECRET, WS, startHarness } from './linking-harness'
import type { Harness } from './linking-harness'
import { listSubscriber } from './list-push-helpers'
import { connectSynced } from './sync-helpers'

let h: Harness | undefined
const clients: CardfileClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.destroy()
  await h?.close()
  h = undefined
})

const agentToken = (userId = 'agent-1') =>
  signToken({ secret: SECRET, userId, workspace: WS, role: 'agent' })

describe('what a server announces in its hello', () => {
  it('announces live lists; without them a subscription closes the connection as before them', async () => {
    h = await startHarness()
    const current = await connectSynced(h.server, schemaDocName(WS), await agentToken())
    expect(current.features).toEqual([['lists', 'mux']])
    current.close()
    await h.close()

    h = await startHarness({ liveLists: false, multiplex: false })
    const older = await listSubscriber(h.server, WS, await agentToken())
    expect(older.raw.features).toEqual([[]])
    older.raw.send(encodeListSubscribe({ id: 1, query: { kind: 'vip' } }))
    await expect.poll(() => older.raw.closeInfo?.code).toBe(4400)
  })
})

describe('the SDK against a server without live lists', () => {
  it('never subscribes, fills its lists by polling, and keeps documents in sync', async () => {
    h = await startHarness({ liveLists: false, multiplex: false })
    const started = await h.inbound({ channel: 'whatsapp', platformUserId: '+14155550100' })
    // Every close of the viewer's document sockets: a subscription would close one with 4400.
    // (Its first socket asks for one socket for all documents, which this server refuses with
    // 4400 as servers did before multiplexing: the client then opens one per document.)
    const closes: number[] = []
    class RecordingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols)
        if (!new URL(url).pathname.endsWith('/mux')) {
          this.on('close', (code: number) => closes.push(code))
        }
      }
    }
    const viewer = createCardfileClient({
      url: h.server.wsUrl,
      workspace: WS,
      token: await agentToken('viewer'),
      WebSocket: RecordingWebSocket,
      indexedDB: false,
      keepAliveMs: 0,
      listPollMs: 200,
    })
    clients.push(viewer)
    const writer = await h.client('agent', 'writer')
    const lists = viewer.lists()
    const vip: ListQuery = { kind: 'vip' }
    const queue: ListQuery = { kind: 'queue', team: null }
    const stopVip = lists.observe(vip, 50, () => undefined)
    const stopQueue = lists.observe(queue, 50, () => undefined)
    await expect.poll(() => lists.state(vip, 50).push).toBe('unsupported')
    await expect.poll(() => lists.state(queue, 50).push).toBe('unsupported')
    await expect
      .poll(() => lists.state<{ id: string }>(queue, 50).items.map((r) => r.id))
      .toEqual([started.conversationId])
    expect(lists.state(vip, 50).items).toEqual([])

    // The viewer's document follows the writer's edit over the same kind of connection.
    const seen = viewer.contact(started.contactId)
    await seen.whenSynced()
    const contact = writer.contact(started.contactId)
    await contact.whenSynced()
    contact.setVip(true)
    await expect.poll(() => seen.read().vip?.value).toBe(true)
    // The list follows by polling alone.
    await expect
      .poll(() => lists.state<IndexedContact>(vip, 50).items.map((c) => c.id))
      .toEqual([started.contactId])
    // The schema document carries the lists' connection: still open and synced.
    const schema = viewer.schema()
    expect(schema.status().status).toBe('synced')
    schema.release()
    expect(closes).toEqual([])
    stopVip()
    stopQueue()
    seen.release()
    contact.release()
  })
})
