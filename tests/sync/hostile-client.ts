import {
  ContactDoc,
  ConversationDoc,
  contactDocName,
  conversationDocName,
  schemaDocName,
} from '@cardfile/core'
import type {
  Actor,
  CardfileClient,
  ContactHandle,
  ConversationHandle,
  RefusalNotice,
  Role,
  SchemaHandle,
} from '@cardfile/core'
import type { CardfileServer } from '@cardfile/server'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { expect } from 'vitest'
import { WebSocket } from 'ws'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { WORKSPACE, connectClient, token } from '../client/harness'

/*
 * A hostile client: raw ws + y-protocols and its own Y.Doc, no SDK checks. Whatever it writes
 * goes to the server as is; refusal notices are collected.
 */

const REMOTE = Symbol('remote')
const SYSTEM: Actor = { userId: 'system', role: 'system' }

/** An SDK client's handle on the schema, a contact or a conversation. */
type DocumentHandle = SchemaHandle | ContactHandle | ConversationHandle

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

/** One thing a hostile client writes, on which document, as which role, and what refuses it. */
export interface HostileCase {
  readonly name: string
  readonly doc: 'schema' | 'contact' | 'conversation'
  readonly role: Role
  /** The refused field (`<map>:<key>`) and its code. */
  readonly refused: readonly [string, string]
  readonly write: (doc: Y.Doc) => void
}

/** Every key of every root map, as plain JSON: what a replica holds. */
export const replicaSnapshot = (doc: Y.Doc): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const name of [...doc.share.keys()]) {
    for (const [key, value] of doc.getMap(name).entries()) out[`${name}:${key}`] = value
  }
  return out
}

/** The document a case writes: the schema, contact c1 or conversation v1. */
export const caseDocName = (kind: HostileCase['doc']): string =>
  kind === 'schema'
    ? schemaDocName(WORKSPACE)
    : kind === 'contact'
      ? contactDocName(WORKSPACE, 'c1')
      : conversationDocName(WORKSPACE, 'v1')

/** Contact c1 (an email contact) and its conversation v1, as a channel creates them. */
export async function seedContactAndConversation(
  server: CardfileServer,
  createdAt: number,
): Promise<void> {
  await server.host.transact(contactDocName(WORKSPACE, 'c1'), SYSTEM, (doc) => {
    new ContactDoc(doc, 'c1').setProfile({
      channel: 'email',
      platformUserId: 'ana@example.com',
      hint: 'an***@example.com',
      createdAt,
    })
  })
  await server.host.transact(conversationDocName(WORKSPACE, 'v1'), SYSTEM, (doc) => {
    new ConversationDoc(doc, 'v1').init({
      contactId: 'c1',
      channel: 'email',
      status: 'new',
      team: null,
      priority: 0,
      createdAt,
    })
  })
}

/**
 * Runs a case against a seeded server: an SDK client (admin `cy`) watches the document, a
 * hostile client (`bo`) writes the case; the sender must be told the case's field and code
 * and converge back, and neither the watcher nor storage may ever hold anything of it.
 * Resolves with both clients, for checks of the case's own.
 */
export async function expectRefusedEverywhere(
  server: CardfileServer,
  c: HostileCase,
): Promise<{ observer: CardfileClient; handle: DocumentHandle; hostile: Hostile }> {
  const name = caseDocName(c.doc)
  const observer = await connectClient(server.wsUrl, 'cy', 'admin')
  const handle: DocumentHandle =
    c.doc === 'schema'
      ? observer.schema()
      : c.doc === 'contact'
        ? observer.contact('c1')
        : observer.conversation('v1')
  await handle.whenSynced()
  const before = replicaSnapshot(handle.doc)
  const hostile = await connectHostile(server, name, 'bo', c.role)
  expect(replicaSnapshot(hostile.doc)).toEqual(before)

  hostile.doc.transact(() => c.write(hostile.doc))

  await expect
    .poll(() => hostile.refusals.map((r) => [r.field, r.code]))
    .toContainEqual([...c.refused])
  await expect.poll(() => replicaSnapshot(hostile.doc)).toEqual(before)
  expect(replicaSnapshot(handle.doc)).toEqual(before)
  expect(await server.host.read(name, replicaSnapshot)).toEqual(before)
  return { observer, handle, hostile }
}
