import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import WebSocket from 'ws'
import * as Y from 'yjs'
import type { LatencyClient } from './latency'
import { within } from './stats'

/**
 * A Hocuspocus client as its users run one: `HocuspocusProvider` (its own protocol, a socket
 * each) over `ws`, with the latency phase's `onRemoteChange` called for every change the
 * server sent.
 */
export class HocuspocusClient implements LatencyClient {
  readonly doc = new Y.Doc()
  onRemoteChange: (() => void) | null = null
  /** Hocuspocus's provider reconnects by itself; the benchmark never sees a close code. */
  readonly closeCode: number | null = null
  private provider: HocuspocusProvider | null = null
  private socket: HocuspocusProviderWebsocket | null = null

  static async connect(url: string, name: string, token: string, timeoutMs: number) {
    const client = new HocuspocusClient()
    let synced: () => void = () => undefined
    const ready = new Promise<void>((resolve) => {
      synced = resolve
    })
    client.socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket })
    client.provider = new HocuspocusProvider({
      websocketProvider: client.socket,
      name,
      document: client.doc,
      token,
      onSynced: () => synced(),
    })
    // A provider given its socket joins it only when attached.
    client.provider.attach()
    // Local edits are made outside a transaction with an origin; anything else came in.
    client.doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin !== null) client.onRemoteChange?.()
    })
    await within(ready, timeoutMs, `Hocuspocus client of ${name} did not sync`)
    return client
  }

  close(): Promise<void> {
    this.onRemoteChange = null
    this.provider?.destroy()
    // A socket handed to the provider outlives it (it could carry other documents), with its
    // reconnect timers: destroyed too, or the benchmark process would not exit.
    this.socket?.destroy()
    this.doc.destroy()
    return Promise.resolve()
  }
}

/**
 * Several documents over one socket, as a Hocuspocus app opens an agent's documents: one
 * `HocuspocusProviderWebsocket` shared by a provider per document.
 */
export class HocuspocusSharedSocket {
  private readonly socket: HocuspocusProviderWebsocket
  private readonly providers: HocuspocusProvider[] = []

  constructor(url: string) {
    this.socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket })
  }

  /** Opens `name` over the shared socket; resolves once synced. */
  async open(name: string, token: string, timeoutMs: number): Promise<LatencyClient> {
    const doc = new Y.Doc()
    const client: LatencyClient = { doc, onRemoteChange: null }
    let synced: () => void = () => undefined
    const ready = new Promise<void>((resolve) => {
      synced = resolve
    })
    const provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name,
      document: doc,
      token,
      onSynced: () => synced(),
    })
    provider.attach()
    this.providers.push(provider)
    doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin !== null) client.onRemoteChange?.()
    })
    await within(ready, timeoutMs, `Hocuspocus document ${name} did not sync`)
    return client
  }

  close(): void {
    for (const provider of this.providers) {
      provider.document.destroy()
      provider.destroy()
    }
    this.socket.destroy()
  }
}
