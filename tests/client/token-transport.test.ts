import type { IncomingMessage, Server } from 'node:http'
import { describe, expect, it } from 'vitest'
import { WebsocketProvider } from 'y-websocket'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { connectClient, startServer, token } from './harness'

/** Records the URL and subprotocol header of every websocket upgrade the server receives. */
function recordUpgrades(server: { httpServer: Server }) {
  const seen: Array<{ url: string; protocols: string }> = []
  server.httpServer.prependListener('upgrade', (req: IncomingMessage) => {
    seen.push({ url: req.url ?? '', protocols: req.headers['sec-websocket-protocol'] ?? '' })
  })
  return seen
}

describe('tokens stay out of URLs', () => {
  it('sends the Cardfile client token in the subprotocol header, never in the URL', async () => {
    const { server, url } = await startServer()
    const upgrades = recordUpgrades(server)
    const jwt = await token('ana', 'admin')
    const client = await connectClient(url, 'ana', 'admin', { getToken: async () => jwt })
    const contact = client.contact('c1')
    await contact.whenSynced()
    expect(upgrades.length).toBeGreaterThan(0)
    for (const upgrade of upgrades) {
      expect(upgrade.url).not.toContain('token')
      expect(upgrade.url).not.toContain(jwt)
      expect(upgrade.protocols.split(',').map((p) => p.trim())).toContain('cardfile')
    }
  })

  it('still admits a stock y-websocket client with ?token=', async () => {
    const { server, url } = await startServer()
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(url, 'demo/contact/c1', doc, {
      params: { token: await token('bo', 'agent') },
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    try {
      await expect.poll(() => provider.synced).toBe(true)
      expect(server.connectionCount()).toBe(1)
    } finally {
      provider.destroy()
    }
  })

  it('renews expiring tokens on open connections instead of reconnecting every document', async () => {
    const { server, url } = await startServer()
    let issued = 0
    const client = await connectClient(url, 'ana', 'admin', {
      getToken: () => {
        issued++
        return token('ana', 'admin', { expiresInSeconds: 3 })
      },
    })
    const contact = client.contact('c1')
    const schema = client.schema()
    await Promise.all([contact.whenSynced(), schema.whenSynced()])
    const opened = Number(/cardfile_connections_total (\d+)/.exec(server.metrics.render())?.[1])
    // Both documents ride the client's one socket.
    expect(opened).toBe(1)
    // Outlive the first tokens by far: each renewal reaches the open connection in-band.
    await expect.poll(() => issued, { timeout: 12_000 }).toBeGreaterThanOrEqual(5)
    expect(Number(/cardfile_connections_total (\d+)/.exec(server.metrics.render())?.[1])).toBe(1)
    expect(server.connectionCount()).toBe(1)
    expect(contact.status().status).toBe('synced')
    expect(contact.error()).toBeNull()
  })

  it('closes a connection whose renewal is forged, and reconnects one that changes identity', async () => {
    const { url } = await startServer()
    const { encodeTokenRefresh } = await import('@cardfile/core')
    const open = async () => {
      const raw = new WebSocket(`${url}/demo/contact/c1?token=${await token('bo', 'agent')}`)
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        raw.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      )
      await new Promise<void>((resolve) => raw.once('open', () => resolve()))
      return { raw, closed }
    }
    const forged = await open()
    forged.raw.send(encodeTokenRefresh(`${await token('bo', 'agent')}x`))
    expect((await forged.closed).code).toBe(4401)
    const promoted = await open()
    promoted.raw.send(encodeTokenRefresh(await token('bo', 'admin')))
    expect(await promoted.closed).toEqual({ code: 1013, reason: 'identity-changed' })
  })
})
