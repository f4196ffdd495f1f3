import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { TestServer } from './sync-helpers'
import { connectSynced, expectPoll, makeToken, startSeededServer } from './sync-helpers'

let t: TestServer | null = null
const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await t?.close()
  t = null
})

async function start(limits: Parameters<typeof startSeededServer>[0] = {}) {
  t = await startSeededServer(limits)
  return t.server
}

/** A raw TCP socket to the server; resolves once connected. */
async function rawSocket(port: number): Promise<Socket & { ended: boolean }> {
  const socket = connect(port, '127.0.0.1') as Socket & { ended: boolean }
  socket.ended = false
  socket.on('close', () => {
    socket.ended = true
  })
  socket.on('error', () => undefined)
  sockets.push(socket)
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve())
    socket.once('close', () => resolve())
  })
  return socket
}

const PARTIAL_UPGRADE =
  'GET /demo/contact/c1 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'

describe('half-open and idle connections', () => {
  it('drops a socket that sends only part of an upgrade request', async () => {
    const server = await start({ limits: { headersTimeoutMs: 300 } })
    const socket = await rawSocket(server.port)
    socket.write(PARTIAL_UPGRADE)
    // Keep dribbling header bytes: a slow sender is not saved by staying busy.
    const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 50)
    try {
      await expectPoll(() => socket.ended, 5000)
    } finally {
      clearInterval(drip)
    }
  })

  it('drops a socket that never sends a byte', async () => {
    const server = await start({ limits: { headersTimeoutMs: 300 } })
    const socket = await rawSocket(server.port)
    await expectPoll(() => socket.ended, 5000)
  })

  it('caps the sockets that have not authenticated and keeps serving once they go', async () => {
    const server = await start({ limits: { maxUnauthenticatedSockets: 3 } })
    const token = await makeToken({ user: 'ana', role: 'agent' })
    // An authenticated client is not counted against the cap.
    const member = await connectSynced(server, 'demo/contact/c1', token)
    const idle = [
      await rawSocket(server.port),
      await rawSocket(server.port),
      await rawSocket(server.port),
    ]
    for (const socket of idle) socket.write(PARTIAL_UPGRADE)
    const extra = await rawSocket(server.port)
    await expectPoll(() => extra.ended)
    expect(server.metrics.socketsRefused.render()).toMatch(/cardfile_sockets_refused_total 1/)
    expect(idle.some((s) => s.ended)).toBe(false)
    for (const socket of idle) socket.destroy()
    await expectPoll(() => idle.every((s) => s.ended))
    const next = await connectSynced(server, 'demo/contact/c2', token)
    expect(next.closeInfo).toBeNull()
    expect(member.closeInfo).toBeNull()
  })

  it('closes a websocket whose authentication does not finish in time with 1013', async () => {
    const server = await start({
      limits: { authTimeoutMs: 200 },
      auth: { authenticate: () => new Promise(() => undefined) },
    })
    const ws = new WebSocket(`${server.wsUrl}/demo/contact/c1?token=x`)
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
      ws.on('error', () => undefined)
    })
    expect(closed).toEqual({ code: 1013, reason: 'auth-timeout' })
  })

  it('drops a websocket whose peer stopped answering pings, and keeps one that answers', async () => {
    const server = await start({ limits: { heartbeatMs: 100 } })
    const token = await makeToken({ user: 'ana', role: 'agent' })
    const answering = await connectSynced(server, 'demo/contact/c1', token)
    const silent = new WebSocket(`${server.wsUrl}/demo/contact/c1?token=${token}`, {
      autoPong: false,
    })
    silent.on('error', () => undefined)
    const silentClosed = new Promise<void>((resolve) => silent.on('close', () => resolve()))
    await new Promise<void>((resolve) => silent.once('open', () => resolve()))
    await expectPoll(() => server.connectionCount() === 2)
    await silentClosed
    await expectPoll(() => server.connectionCount() === 1)
    expect(answering.closeInfo).toBeNull()
  })
})
