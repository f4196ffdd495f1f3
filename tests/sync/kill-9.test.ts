import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCardfileClient } from '@cardfile/core'
import type { CardfileClient, CardfileError, ContactHandle, Role } from '@cardfile/core'
import { signToken } from '@cardfile/server'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { inboundContact } from '../channel-inbound'

/**
 * A `kill -9` of the real `cardfile serve` process while several real clients write, then a
 * restart on the same SQLite file: every edit the server acknowledged as durable (message 100,
 * seen by the clients as their pending count going down) must be there for a fresh client.
 */

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'server')
const cli = join(serverDir, 'src', 'cli.ts')
const SECRET = 'kill-9-integration-secret'
const WORKSPACE = 'demo'
const WRITERS = ['ana', 'bo', 'cy'] as const
const CONTACTS = 6
/** Each writer writes one edit per contact per tick: about 65 updates a second per socket. */
const TICK_MS = 15
/** The kill comes once every writer has had this many edits acknowledged on every contact. */
const ACKED_BEFORE_KILL = 25
const WAIT = { timeout: 15_000, interval: 20 }

interface RunningServer {
  readonly child: ChildProcessWithoutNullStreams
  readonly url: string
  readonly exited: Promise<NodeJS.Signals | number | null>
  output(): string
}

const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
})

/**
 * Starts `cardfile serve` as its own process and waits for the URL it prints; `extra` adds
 * flags (`--sqlite-sync normal`).
 */
async function startServer(data: string, extra: readonly string[]): Promise<RunningServer> {
  const { CARDFILE_SECRET: _ignored, ...env } = process.env
  const child = spawn(
    process.execPath,
    [
      ...['--conditions', 'source', '--import', 'tsx', cli],
      ...['serve', '--port', '0', '--host', '127.0.0.1', '--data', data, '--secret', SECRET],
      ...['--create-workspaces', 'advanced'],
      ...extra,
    ],
    { cwd: serverDir, env },
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  )
  // Registered before any wait, so that a failing test still leaves no server behind.
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const port = (): string | undefined => /serving on http:\/\/[^:]+:(\d+)/.exec(output)?.[1]
  await expect
    .poll(() => port() ?? (child.exitCode === null ? undefined : `exited: ${output}`), WAIT)
    .toMatch(/^\d+$/)
  return { child, url: `ws://127.0.0.1:${port()}`, exited, output: () => output }
}

const tokenFor = (userId: string, role: Role) =>
  signToken({ secret: SECRET, userId, workspace: WORKSPACE, role, expiresIn: '1h' })

/** A Node client with no local copy: what it knows comes from the server alone. */
async function connect(url: string, userId: string, role: Role): Promise<CardfileClient> {
  const client = createCardfileClient({
    url,
    workspace: WORKSPACE,
    token: await tokenFor(userId, role),
    WebSocket,
    indexedDB: false,
    keepAliveMs: 0,
  })
  cleanups.push(() => client.destroy())
  return client
}

/** Creates a contact the way a channel does. */
const createContact = async (url: string, visitor: string): Promise<string> =>
  inboundContact(url, WORKSPACE, await tokenFor('channel-ingest', 'system'), visitor)

const attributeOf = (writer: string) => `k9_${writer}`

/** One writer's edits on one contact, in the order they were made. */
interface Lane {
  readonly writer: string
  readonly contactId: string
  readonly handle: ContactHandle
  /** Per edit, the writer doc's own clock after it: acknowledged once the server's covers it. */
  readonly ends: number[]
  /** Acknowledged edits, from the client's pending count (a count of local transactions). */
  acked(): number
}

const valueOf = (lane: Lane, seq: number) => `${lane.writer}-${lane.contactId}-${seq}`
const seqOf = (value: string) => Number(/-(\d+)$/.exec(value)?.[1] ?? Number.NaN)

function write(lane: Lane): void {
  lane.handle.setValue(attributeOf(lane.writer), valueOf(lane, lane.ends.length))
  lane.ends.push(Y.getState(lane.handle.doc.store, lane.handle.doc.clientID))
}

// The default fsyncs every group commit; `normal` leaves the fsync to checkpoints, which loses
// nothing to a killed process (the written pages are the kernel's), only to a power cut.
describe.each([
  { sync: 'full', flags: [] },
  { sync: 'normal', flags: ['--sqlite-sync', 'normal'] },
])('a kill -9 of the server during writes, SQLite sync $sync', ({ sync, flags }) => {
  it('keeps every edit the server acknowledged as durable, for a fresh client after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-kill9-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const data = join(dir, 'cardfile.db')
    const first = await startServer(data, flags)
    await expect.poll(() => first.output(), WAIT).toContain(`"sqliteSync":"${sync}"`)

    // Seed: contacts from a channel, one text attribute per writer from an admin.
    const contactIds: string[] = []
    for (let i = 0; i < CONTACTS; i++) contactIds.push(await createContact(first.url, `v-${i}`))
    const admin = await connect(first.url, 'root', 'admin')
    const schema = admin.schema()
    await schema.whenSynced()
    for (const writer of WRITERS) {
      schema.schema.createAttribute({
        id: attributeOf(writer),
        label: `Kill ${writer}`,
        type: 'text',
      })
    }
    await expect.poll(() => schema.status().saved, WAIT).toBe(true)

    // Every writer opens every contact: each contact document has several writers at once.
    const lanes: Lane[] = []
    const errors: { writer: string; error: CardfileError }[] = []
    const writers: CardfileClient[] = []
    for (const writer of WRITERS) {
      const client = await connect(first.url, writer, 'agent')
      writers.push(client)
      client.onError((error) => errors.push({ writer, error }))
      for (const contactId of contactIds) {
        const handle = client.contact(contactId)
        const ends: number[] = []
        lanes.push({
          writer,
          contactId,
          handle,
          ends,
          acked: () => ends.length - handle.status().pending,
        })
      }
    }
    for (const lane of lanes) {
      await lane.handle.whenSynced()
      await expect
        .poll(
          () => lane.handle.schemaHandle.schema.definition(attributeOf(lane.writer))?.type,
          WAIT,
        )
        .toBe('text')
    }

    // Write until every lane has some edits acknowledged, then kill the server in the same turn
    // as a batch of writes, so that edits are on the wire and in the server's commit queue.
    let killRequested = false
    const killed = new Promise<{ writtenAtKill: number }>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          for (const lane of lanes) write(lane)
          if (!killRequested) return
          clearInterval(timer)
          process.kill(first.child.pid ?? Number.NaN, 'SIGKILL')
          resolve({ writtenAtKill: lanes.reduce((n, lane) => n + lane.ends.length, 0) })
        } catch (error) {
          clearInterval(timer)
          reject(error instanceof Error ? error : new Error(String(error)))
        }
      }, TICK_MS)
      cleanups.push(() => clearInterval(timer))
    })
    // A failed write ends the wait below at once (and is reported by the await after it).
    let writeFailure: unknown = null
    killed.catch((error: unknown) => (writeFailure = error))
    await expect
      .poll(() => (writeFailure === null ? Math.min(...lanes.map((l) => l.acked())) : -1), WAIT)
      .toBeGreaterThanOrEqual(ACKED_BEFORE_KILL)
    killRequested = true
    const { writtenAtKill } = await killed
    expect(await first.exited).toBe('SIGKILL')
    expect(errors.map(({ error }) => error.code)).toEqual([])

    // Acks already on the way were read before the close: wait until every socket saw the drop,
    // then take the acknowledged counts (they only grow) and retire the writers, so that none of
    // their unacknowledged edits reaches the next server.
    await expect
      .poll(() => lanes.every((lane) => lane.handle.status().status === 'offline'), WAIT)
      .toBe(true)
    const acked = new Map(lanes.map((lane) => [lane, lane.acked()]))
    const clientIds = new Map(lanes.map((lane) => [lane, lane.handle.doc.clientID]))
    await Promise.all([admin, ...writers].map((client) => client.destroy()))

    const totalAcked = [...acked.values()].reduce((n, count) => n + count, 0)
    expect(totalAcked).toBeGreaterThanOrEqual(ACKED_BEFORE_KILL * lanes.length)
    // The kill came during writes: the last batch (at least) was not acknowledged.
    expect(totalAcked).toBeLessThan(writtenAtKill)

    const second = await startServer(data, flags)
    const reader = await connect(second.url, 'dee', 'agent')
    let recovered = 0
    for (const contactId of contactIds) {
      const contact = reader.contact(contactId)
      await contact.whenSynced()
      const custom = contact.read().custom
      for (const lane of lanes.filter((l) => l.contactId === contactId)) {
        const count = acked.get(lane) ?? 0
        const stored = Y.getState(contact.doc.store, clientIds.get(lane) ?? Number.NaN)
        const lost = `${lane.writer} on ${contactId}: ${count} acked of ${lane.ends.length}`
        // Every acknowledged Yjs change of this writer is in storage...
        expect(stored, `${lost} (stored clock)`).toBeGreaterThanOrEqual(lane.ends[count - 1] ?? 0)
        // ...so the value shown is the last acknowledged one or a later edit of the same writer.
        const value = custom[attributeOf(lane.writer)]?.value
        expect(typeof value, lost).toBe('string')
        const seq = seqOf(String(value))
        expect(value, lost).toBe(valueOf(lane, seq))
        expect(seq, lost).toBeGreaterThanOrEqual(count - 1)
        expect(seq, lost).toBeLessThan(lane.ends.length)
        recovered += lane.ends.filter((end) => end <= stored).length
      }
    }
    console.info(
      `kill -9: ${writtenAtKill} edits written before the kill, ${totalAcked} acknowledged, ` +
        `${recovered} recovered after the restart (${lanes.length} writer-contact pairs)`,
    )
    expect(recovered).toBeGreaterThanOrEqual(totalAcked)
  })
})
