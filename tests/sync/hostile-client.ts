import type { RefusalNotice, Role } from '@cardfile/core'
import type { CardfileServer } from '@cardfile/server'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { expect } from 'vitest'
import { WebSocket } from 'ws'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { token } from '../client/harness'

/*
 * A hostile client: raw ws + y-protocols and its own Y.Doc, no SDK checks. Whatever it writes
 * goes to the server as is; refusal notices are collected.
 */

const REMOTE = Symbol('remote')

/** A connected hostile client: its document and the refusals it was told of. */
export interface Hostile {
  readonly doc: Y.Doc
  readonly refusals: RefusalNotice[]
  synced: boolean
  close(): void
}

/** Connects a hostile client to `docName` as `userId` with `role`; resolves once synced. */
export async function connectHostile(
  server: CardfileServer,
  docName: string,
  userId: string,
  role: Role,
): Promise<Hostile> {
  const ws = new WebSocket(
    `${server.wsUrl}/${docName}?token=${await token(userId, role)}&cardfile=1`,
  )
  ws.binaryType = 'nodebuffer'
  const doc = new Y.Doc()
  const send = (bytes: Uint8Array): void => {
    if (ws.readyState === ws.OPEN) ws.send(bytes)
  }
  const hostile: Hostile = { doc, refusals: [], synced: false, close: () => ws.close() }
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === REMOTE) return
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    syncProtocol.writeUpdate(encoder, update)
    send(encoding.toUint8Array(encoder))
  })
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    const type = decoding.readVarUint(decoder)
    if (type === 0) {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, 0)
      if (syncProtocol.readSyncMessage(decoder, encoder, doc, REMOTE) === 1) hostile.synced = true
      if (encoding.length(encoder) > 1) send(encoding.toUint8Array(encoder))
    } else if (type === 101) {
      hostile.refusals.push(JSON.parse(decoding.readVarString(decoder)) as RefusalNotice)
    }
  })
  ws.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, 0)
      syncProtocol.writeSyncStep1(encoder, doc)
      ws.send(encoding.toUint8Array(encoder))
      resolve()
    })
    ws.once('close', (code) => reject(new Error(`closed ${code}`)))
  })
  await expect.poll(() => hostile.synced).toBe(true)
  return hostile
}
