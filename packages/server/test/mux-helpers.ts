import {
  MessageTypes,
  SOCKET_CHANNEL,
  encodeChannelClose,
  encodeChannelOpen,
  encodeFrame,
  muxPath,
  readChannelClose,
  readFrame,
  readHelloNotice,
  tokenSubprotocols,
} from '@cardfile/core'
import type { PurgeNotice, RefusalNotice } from '@cardfile/core'
import type { CardfileServer } from '@cardfile/server'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { WebSocket } from 'ws'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { expectPoll, syncUpdateMessage } from './sync-helpers'

const REMOTE = Symbol('remote')

/** One document on a raw multiplexed socket: what the server sent on its channel. */
export interface RawChannel {
  readonly id: number
  readonly doc: Y.Doc
  readonly refusals: RefusalNotice[]
  readonly acks: Uint8Array[]
  readonly purges: PurgeNotice[]
  readonly hellos: string[]
  synced: boolean
  closeInfo: { code: number; reason: string } | null
  readonly closed: Promise<{ code: number; reason: string }>
  send(message: Uint8Array): void
  /** True when the latest ack covers everything in this channel's doc. */
  saved(): boolean
  /** Closes the channel from the client's end. */
  close(): void
}

/** A hand-written multiplexed client: raw ws frames, no SDK. */
export interface RawMuxClient {
  readonly ws: WebSocket
  /** Features named by the socket's hello (null until it arrived). */
  features: readonly string[] | null
  closeInfo: { code: number; reason: string } | null
  readonly closed: Promise<{ code: number; reason: string }>
  /** Opens `docName` on the next channel id (sends its sync step 1 at once). */
  open(docName: string, options?: { generation?: string }): RawChannel
  /** Sends raw bytes on the socket (for malformed frames). */
  sendRaw(bytes: Uint8Array): void
  close(): void
}

/** Connects a raw multiplexed client to `workspace`; resolves once the socket is open. */
export async function connectMux(
  server: Pick<CardfileServer, 'wsUrl'>,
  workspace: string,
  token: string,
): Promise<RawMuxClient> {
  const ws = new WebSocket(
    `${server.wsUrl}/${muxPath(workspace)}?cardfile=1`,
    tokenSubprotocols(token),
  )
  ws.binaryType = 'nodebuffer'
  const channels = new Map<
    number,
    RawChannel & { closeNow(info: { code: number; reason: string }): void }
  >()
  let nextId = 1
  let resolveClosed: (info: { code: number; reason: string }) => void = () => undefined
  const send = (channel: number, message: Uint8Array): void => {
    if (ws.readyState === ws.OPEN) ws.send(encodeFrame(channel, message))
  }
  const client: RawMuxClient = {
    ws,
    features: null,
    closeInfo: null,
    closed: new Promise((resolve) => {
      resolveClosed = resolve
    }),
    open(docName, options = {}) {
      const id = nextId++
      const doc = new Y.Doc()
      let resolveChannelClosed: (info: { code: number; reason: string }) => void = () => undefined
      const channel = {
        id,
        doc,
        refusals: [] as RefusalNotice[],
        acks: [] as Uint8Array[],
        purges: [] as PurgeNotice[],
        hellos: [] as string[],
        synced: false,
        closeInfo: null as { code: number; reason: string } | null,
        closed: new Promise<{ code: number; reason: string }>((resolve) => {
          resolveChannelClosed = resolve
        }),
        send: (message: Uint8Array) => {
          if (channel.closeInfo === null) send(id, message)
        },
        saved: () => {
          const ack = channel.acks.at(-1)
          if (ack === undefined) return false
          const acked = Y.decodeStateVector(ack)
          for (const [clientId, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
            if ((acked.get(clientId) ?? 0) < clock) return false
          }
          return true
        },
        close: () => {
          send(SOCKET_CHANNEL, encodeChannelClose({ channel: id, code: 1000, reason: '' }))
          channel.closeNow({ code: 1000, reason: '' })
        },
        closeNow: (info: { code: number; reason: string }) => {
          if (channel.closeInfo !== null) return
          channel.closeInfo = info
          resolveChannelClosed(info)
        },
      }
      channels.set(id, channel)
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== REMOTE) channel.send(syncUpdateMessage(update))
      })
      send(
        SOCKET_CHANNEL,
        encodeChannelOpen({ channel: id, doc: docName, generation: options.generation ?? null }),
      )
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, 0)
      syncProtocol.writeSyncStep1(encoder, doc)
      channel.send(encoding.toUint8Array(encoder))
      return channel
    },
    sendRaw: (bytes) => ws.send(bytes),
    close: () => ws.close(),
  }
  ws.on('message', (data: Buffer) => {
    const frame = readFrame(new Uint8Array(data))
    if (frame === null) throw new Error('the server sent a malformed frame')
    const decoder = decoding.createDecoder(frame.message)
    const type = decoding.readVarUint(decoder)
    if (frame.channel === SOCKET_CHANNEL) {
      if (type === MessageTypes.Hello) client.features = readHelloNotice(decoder).features
      if (type === MessageTypes.ChannelClose) {
        const notice = readChannelClose(decoder)
        if (notice !== null) {
          channels.get(notice.channel)?.closeNow({ code: notice.code, reason: notice.reason })
        }
      }
      return
    }
    const channel = channels.get(frame.channel)
    if (channel === undefined || channel.closeInfo !== null) return
    switch (type) {
      case MessageTypes.Sync: {
        const encoder = encoding.createEncoder()
        encoding.writeVarUint(encoder, 0)
        const syncType = syncProtocol.readSyncMessage(decoder, encoder, channel.doc, REMOTE)
        if (syncType === 1) channel.synced = true
        if (encoding.length(encoder) > 1) channel.send(encoding.toUint8Array(encoder))
        break
      }
      case MessageTypes.DurableAck:
        channel.acks.push(decoding.readVarUint8Array(decoder))
        break
      case MessageTypes.Refusal:
        channel.refusals.push(JSON.parse(decoding.readVarString(decoder)) as RefusalNotice)
        break
      case MessageTypes.Purge:
        channel.purges.push(JSON.parse(decoding.readVarString(decoder)) as PurgeNotice)
        break
      case MessageTypes.Hello: {
        const generation = readHelloNotice(decoder).generation
        if (generation !== null) channel.hellos.push(generation)
        break
      }
      default:
        break
    }
  })
  ws.on('close', (code, reason) => {
    const info = { code, reason: reason.toString() }
    client.closeInfo = info
    for (const channel of channels.values()) channel.closeNow(info)
    resolveClosed(info)
  })
  ws.on('error', () => undefined)
  await new Promise<void>((resolve) => {
    ws.once('open', () => resolve())
    ws.once('close', () => resolve())
  })
  return client
}

/** Waits until `channel` has the server's state; throws when it closed instead. */
export async function channelSynced(channel: RawChannel): Promise<void> {
  await expectPoll(() => channel.synced || channel.closeInfo !== null)
  if (channel.closeInfo !== null) {
    throw new Error(`channel closed ${channel.closeInfo.code} ${channel.closeInfo.reason}`)
  }
}
