import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'

export interface BareRelay {
  /** `ws://127.0.0.1:<port>` */
  readonly url: string
  close(): Promise<void>
}

/**
 * The reference the benchmark divides by: a `ws` server that relays every binary message to the
 * other sockets of the same room (the URL path) and does nothing else. No Yjs, no backend, no
 * authentication, no validation; the fastest a websocket relay in Node can be, so the ratio
 * says what Cardfile's sync, checks and durability cost on the same machine in the same run.
 *
 * @example
 * const relay = await startBareRelay()
 * // clients connect to `${relay.url}/bench/contact/c1`
 * await relay.close()
 */
export function startBareRelay(options: { readonly port?: number } = {}): Promise<BareRelay> {
  const rooms = new Map<string, Set<WebSocket>>()
  const server = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0 })
  server.on('connection', (socket, request) => {
    const room = (request.url ?? '/').split('?')[0] ?? '/'
    let peers = rooms.get(room)
    if (peers === undefined) {
      peers = new Set()
      rooms.set(room, peers)
    }
    const members = peers
    members.add(socket)
    socket.on('message', (data, isBinary) => {
      for (const peer of members) {
        if (peer !== socket && peer.readyState === peer.OPEN) peer.send(data, { binary: isBinary })
      }
    })
    socket.on('close', () => {
      members.delete(socket)
      if (members.size === 0) rooms.delete(room)
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        reject(new Error('bare relay is not listening on a TCP port'))
        return
      }
      resolve({
        url: `ws://127.0.0.1:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of server.clients) socket.terminate()
            server.close(() => done())
          }),
      })
    })
  })
}
