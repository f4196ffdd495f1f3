import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import WebSocket from 'ws'
import * as Y from 'yjs'

/** y-websocket message type of sync messages (step 1, step 2, update). */
const MESSAGE_SYNC = 0

/** Cardfile's durable acknowledgement: the state vector of what storage holds (PROTOCOL.md). */
const MESSAGE_DURABLE_ACK = 100

/** Transaction origin of changes that arrived over the socket: they are never sent back. */
const REMOTE = Symbol('remote')

export interface BenchClientOptions {
  /** Server base URL, `ws://127.0.0.1:<port>`. */
  readonly url: string
  readonly docName: string
  readonly token?: string
  /**
   * Run the y-websocket handshake (sync step 1 / step 2) before counting as synced. A bare relay
   * has no state to sync with, so its clients only exchange updates.
   */
  readonly handshake: boolean
  /** Give up connecting after this many ms. */
  readonly timeoutMs: number
}

/**
 * A minimal y-websocket protocol client: one socket, one Y.Doc, no awareness, no reconnect, no
 * timers. A thousand stock `WebsocketProvider`s would each keep resync and awareness timers in
 * the measuring process; this keeps the client side identical for Cardfile and the bare relay
 * and as cheap as the protocol allows.
 *
 * @example
 * const client = await BenchClient.connect({ url, docName: 'bench/contact/c1', token, handshake: true, timeoutMs: 5000 })
 * client.onRemoteChange = () => console.log(client.doc.getMap('custom').toJSON())
 */
export class BenchClient {
  readonly doc = new Y.Doc()
  /** Called after every applied message that came from the server. */
  onRemoteChange: (() => void) | null = null
  /** Called after a durable acknowledgement arrived. */
  onDurableAck: (() => void) | null = null
  /** Close code when the server closed the socket, for diagnostics. */
  closeCode: number | null = null
  /** This client's own clock as of the last durable acknowledgement (-1: none yet). */
  private ackedClock = -1
  private readonly socket: WebSocket

  private constructor(socket: WebSocket) {
    this.socket = socket
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE || socket.readyState !== WebSocket.OPEN) return
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      syncProtocol.writeUpdate(encoder, update)
      socket.send(encoding.toUint8Array(encoder))
    })
  }

  /** Opens the socket and resolves once synced (or open, without handshake). */
  static connect(options: BenchClientOptions): Promise<BenchClient> {
    const query = options.token === undefined ? '' : `?token=${options.token}&cardfile=1`
    const socket = new WebSocket(`${options.url}/${options.docName}${query}`, {
      perMessageDeflate: false,
    })
    socket.binaryType = 'nodebuffer'
    const client = new BenchClient(socket)
    return new Promise<BenchClient>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate()
        reject(new Error(`connect to ${options.docName} timed out after ${options.timeoutMs} ms`))
      }, options.timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        resolve(client)
      }
      socket.on('open', () => {
        if (!options.handshake) {
          done()
          return
        }
        const encoder = encoding.createEncoder()
        encoding.writeVarUint(encoder, MESSAGE_SYNC)
        syncProtocol.writeSyncStep1(encoder, client.doc)
        socket.send(encoding.toUint8Array(encoder))
      })
      socket.on('message', (data: Buffer) => {
        const syncType = client.receive(data)
        if (syncType === syncProtocol.messageYjsSyncStep2) done()
      })
      socket.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      socket.on('close', (code, reason) => {
        client.closeCode = code
        clearTimeout(timer)
        reject(new Error(`socket closed with ${code} ${reason.toString()}`))
      })
    })
  }

  /** Applies one server message; returns the sync message type, or null for other types. */
  private receive(data: Buffer): number | null {
    const decoder = decoding.createDecoder(
      new Uint8Array(data.buffer, data.byteOffset, data.length),
    )
    const type = decoding.readVarUint(decoder)
    if (type === MESSAGE_DURABLE_ACK) {
      const committed = Y.decodeStateVector(decoding.readVarUint8Array(decoder))
      this.ackedClock = committed.get(this.doc.clientID) ?? -1
      this.onDurableAck?.()
      return null
    }
    // Refusals, purges and awareness are not what the benchmark observes; skipping them costs
    // the same as a stock client ignoring them.
    if (type !== MESSAGE_SYNC) return null
    const reply = encoding.createEncoder()
    encoding.writeVarUint(reply, MESSAGE_SYNC)
    const syncType = syncProtocol.readSyncMessage(decoder, reply, this.doc, REMOTE)
    if (encoding.length(reply) > 1) this.socket.send(encoding.toUint8Array(reply))
    if (syncType !== syncProtocol.messageYjsSyncStep1) this.onRemoteChange?.()
    return syncType
  }

  /** True when the server acknowledged that storage holds every local change of this client. */
  isSaved(): boolean {
    const local = Y.decodeStateVector(Y.encodeStateVector(this.doc)).get(this.doc.clientID) ?? 0
    return local === 0 || this.ackedClock >= local
  }

  /** Closes the socket and resolves when it is closed (or after `timeoutMs`). */
  close(timeoutMs = 2000): Promise<void> {
    this.onRemoteChange = null
    this.doc.destroy()
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate()
        resolve()
      }, timeoutMs)
      this.socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      this.socket.close()
    })
  }
}
