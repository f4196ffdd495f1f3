/**
 * The lifecycle phase of `npm run bench`: the built servers as their users run them, one
 * process each (Cardfile's `cardfile serve` from packages/server/dist, Hocuspocus with its
 * SQLite extension from `hocuspocus-serve.mjs`), measured from outside:
 * - start: from spawning the process to the listening port, on an existing database;
 * - stop: from SIGTERM to exit with 20 clients connected;
 * - cold load of a 5,000-update document: a fresh process, one warm-up client on another
 *   document, then the time from opening a socket to the document synced;
 * - stored size of that document beside its garbage-collected re-encoding, and their ratio;
 * - kill -9: edits a second client has seen, then `kill -9`: how many the restarted server has.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { signToken } from '@cardfile/server'
import Database from 'better-sqlite3'
import * as Y from 'yjs'
import {
  BENCH_ADMIN_ID,
  BENCH_AGENT_ID,
  LATENCY_ATTRIBUTE,
  readSequence,
  writeSequence,
} from './contact-edits'
import { BENCH_SECRET, BENCH_WORKSPACE } from './ipc'
import type { BenchTokens, ServerKind } from './ipc'
import { closeAll, connectPhaseClient } from './phase-client'
import type { PhaseClient } from './phase-client'
import type { Row } from './report'
import { seedSchema } from './schema-seed'
import { percentile, within } from './stats'

/** The servers of this phase: the bare relay stores nothing, so it has no lifecycle to compare. */
type LifecycleKind = Extract<ServerKind, 'cardfile' | 'hocuspocus'>

const START_TIMEOUT_MS = 30_000
const CONNECT_TIMEOUT_MS = 30_000
const EDIT_TIMEOUT_MS = 10_000
/** Process starts (each with a cold load and a stop) per server. */
const RESTARTS = 5
const COLD_UPDATES = 5000
const KILL_EDITS = 200
const CLIENTS_AT_STOP = 20

const doc = (name: string): string => `${BENCH_WORKSPACE}/contact/${name}`

export interface LifecycleRun {
  /** ms from spawn to listening, one per start. */
  readonly startMs: number[]
  /** ms from SIGTERM to exit, one per stop. */
  readonly stopMs: number[]
  /** ms from opening a socket to the 5,000-update document synced, one per start. */
  readonly coldLoadMs: number[]
  /** Bytes the server's storage holds for that document after the runs. */
  readonly storedBytes: number
  /** Bytes of the document's current state re-encoded with garbage collection. */
  readonly gcBytes: number
  /** Of the edits a reader saw before `kill -9`, how many the restarted server had. */
  readonly keptAfterKill: number
}

interface Running {
  readonly kind: LifecycleKind
  readonly url: string
  readonly tokens: BenchTokens
  readonly process: ChildProcess
  readonly exited: Promise<void>
}

const repository = fileURLToPath(new URL('../..', import.meta.url))

function command(kind: LifecycleKind, dir: string): [string, string[]] {
  return kind === 'cardfile'
    ? [
        join(repository, 'packages/server/dist/cli.js'),
        [
          'serve',
          '--data',
          join(dir, 'cardfile.db'),
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--secret',
          BENCH_SECRET,
          '--create-workspaces',
          'advanced',
        ],
      ]
    : [
        fileURLToPath(new URL('./hocuspocus-serve.mjs', import.meta.url)),
        [join(dir, 'hocuspocus.db'), BENCH_SECRET],
      ]
}

async function tokens(): Promise<BenchTokens> {
  const sign = (userId: string, role: 'admin' | 'agent'): Promise<string> =>
    signToken({ secret: BENCH_SECRET, userId, workspace: BENCH_WORKSPACE, role, expiresIn: '2h' })
  return { agent: await sign(BENCH_AGENT_ID, 'agent'), admin: await sign(BENCH_ADMIN_ID, 'admin') }
}

/** Spawns the server on `dir` and resolves once it listens, with the time that took. */
async function start(
  kind: LifecycleKind,
  dir: string,
  minted: BenchTokens,
): Promise<[Running, number]> {
  const [entry, args] = command(kind, dir)
  const startedAt = performance.now()
  const child = spawn(process.execPath, [entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CARDFILE_LOG_LEVEL: 'info' },
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let errors = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-2000)
  })
  const port = await within(
    new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}: ${errors}`)))
      const lines = createInterface({ input: child.stdout! })
      lines.on('line', (line) => {
        try {
          const parsed = JSON.parse(line) as { msg?: unknown; port?: unknown }
          if (parsed.msg === 'listening' && typeof parsed.port === 'number') resolve(parsed.port)
        } catch {
          // Not a log line.
        }
      })
    }),
    START_TIMEOUT_MS,
    `${kind} did not listen`,
  )
  const elapsed = performance.now() - startedAt
  return [{ kind, url: `ws://127.0.0.1:${port}`, tokens: minted, process: child, exited }, elapsed]
}

/** SIGTERM, resolving with the time to exit (SIGKILL after 30 s). */
async function stop(server: Running): Promise<number> {
  if (server.process.exitCode !== null) return 0
  const startedAt = performance.now()
  server.process.kill('SIGTERM')
  const timer = setTimeout(() => server.process.kill('SIGKILL'), 30_000)
  await server.exited
  clearTimeout(timer)
  return performance.now() - startedAt
}

async function kill(server: Running): Promise<void> {
  server.process.kill('SIGKILL')
  await server.exited
}

const connect = (server: Running, name: string): Promise<PhaseClient> =>
  connectPhaseClient(
    { kind: server.kind, url: server.url, tokens: server.tokens },
    doc(name),
    CONNECT_TIMEOUT_MS,
  )

/** Writes `edits` changes one at a time, each waited for until `reader` shows it. */
async function editSeenBy(writer: PhaseClient, reader: PhaseClient, edits: number): Promise<void> {
  let sequence = Math.max(0, readSequence(writer, LATENCY_ATTRIBUTE))
  const last = sequence + edits
  while (sequence < last) {
    sequence++
    const seen = new Promise<void>((resolve) => {
      reader.onRemoteChange = () => {
        if (readSequence(reader, LATENCY_ATTRIBUTE) >= sequence) resolve()
      }
    })
    writeSequence(writer, LATENCY_ATTRIBUTE, sequence)
    await within(seen, EDIT_TIMEOUT_MS, `edit ${sequence} never reached the reader`)
  }
  reader.onRemoteChange = null
}

function storedBytes(kind: LifecycleKind, dir: string, name: string): number {
  const db = new Database(join(dir, kind === 'cardfile' ? 'cardfile.db' : 'hocuspocus.db'), {
    readonly: true,
  })
  try {
    const row =
      kind === 'cardfile'
        ? db
            .prepare(
              `SELECT COALESCE((SELECT length(data) FROM snapshots WHERE doc = ?), 0)
                 + COALESCE((SELECT sum(length(data)) FROM updates WHERE doc = ?), 0) AS bytes`,
            )
            .get(name, name)
        : db.prepare('SELECT length(data) AS bytes FROM documents WHERE name = ?').get(name)
    return Number((row as { bytes?: unknown } | undefined)?.bytes ?? 0)
  } finally {
    db.close()
  }
}

async function runOne(kind: LifecycleKind): Promise<LifecycleRun> {
  const dir = mkdtempSync(join(tmpdir(), `cardfile-lifecycle-${kind}-`))
  const minted = await tokens()
  const startMs: number[] = []
  const stopMs: number[] = []
  const coldLoadMs: number[] = []
  let gcBytes = 0
  try {
    // The 5,000-update document, each edit its own update (seen by a reader before the next).
    let [server] = await start(kind, dir, minted)
    if (kind === 'cardfile') await seedSchema(server.url, server.tokens)
    const writer = await connect(server, 'cold')
    const reader = await connect(server, 'cold')
    await editSeenBy(writer, reader, COLD_UPDATES)
    await closeAll([writer, reader])
    await stop(server)
    for (let run = 0; run < RESTARTS; run++) {
      const [running, startedIn] = await start(kind, dir, minted)
      server = running
      startMs.push(startedIn)
      const clients = [await connect(server, 'warm')]
      const openedAt = performance.now()
      const cold = await connect(server, 'cold')
      coldLoadMs.push(performance.now() - openedAt)
      clients.push(cold)
      const loaded = readSequence(cold, LATENCY_ATTRIBUTE)
      if (loaded !== COLD_UPDATES)
        throw new Error(`${kind} loaded edit ${loaded} of ${COLD_UPDATES}`)
      gcBytes = Y.encodeStateAsUpdate(cold.doc).byteLength
      while (clients.length < CLIENTS_AT_STOP)
        clients.push(await connect(server, `idle${clients.length}`))
      stopMs.push(await stop(server))
      await closeAll(clients)
    }
    // kill -9 right after a reader saw the last of KILL_EDITS edits.
    ;[server] = await start(kind, dir, minted)
    const killWriter = await connect(server, 'durable')
    const killReader = await connect(server, 'durable')
    await editSeenBy(killWriter, killReader, KILL_EDITS)
    await kill(server)
    await closeAll([killWriter, killReader])
    ;[server] = await start(kind, dir, minted)
    const after = await connect(server, 'durable')
    const keptAfterKill = Math.max(0, readSequence(after, LATENCY_ATTRIBUTE))
    await closeAll([after])
    await stop(server)
    return {
      startMs,
      stopMs,
      coldLoadMs,
      storedBytes: storedBytes(kind, dir, doc('cold')),
      gcBytes,
      keptAfterKill,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Runs the phase for each server asked for (the bare relay has none), one after the other.
 *
 * @example
 * const runs = await runLifecycle(['cardfile', 'hocuspocus'])
 */
export async function runLifecycle(
  kinds: readonly ServerKind[],
): Promise<Partial<Record<LifecycleKind, LifecycleRun>>> {
  const runs: Partial<Record<LifecycleKind, LifecycleRun>> = {}
  for (const kind of kinds) {
    if (kind === 'bare') continue
    runs[kind] = await runOne(kind)
  }
  return runs
}

/** The phase's rows: medians of the repeated figures, each Cardfile's beside Hocuspocus's. */
export function lifecycleRows(runs: Partial<Record<LifecycleKind, LifecycleRun>>): Row[] {
  const values = (read: (run: LifecycleRun) => number): Row['values'] => ({
    cardfile: runs.cardfile === undefined ? null : read(runs.cardfile),
    hocuspocus: runs.hocuspocus === undefined ? null : read(runs.hocuspocus),
  })
  const median = (samples: number[]): number => percentile(samples, 50)
  const peer = { against: 'hocuspocus', atMost: 1 } as const
  const gc = runs.cardfile?.gcBytes ?? runs.hocuspocus?.gcBytes
  return [
    {
      figure: `start to listening, median of ${RESTARTS}`,
      clients: 'existing data',
      unit: 'ms',
      digits: 1,
      values: values((run) => median(run.startMs)),
      goal: peer,
    },
    {
      figure: `SIGTERM to exit, median of ${RESTARTS}`,
      clients: `${CLIENTS_AT_STOP} clients`,
      unit: 'ms',
      digits: 1,
      values: values((run) => median(run.stopMs)),
      goal: peer,
    },
    {
      figure: `cold load of a ${COLD_UPDATES.toLocaleString('en-US')}-update document, median of ${RESTARTS}`,
      clients: '1 client',
      unit: 'ms',
      digits: 2,
      values: values((run) => median(run.coldLoadMs)),
      goal: peer,
    },
    {
      figure: `stored size of that document (ref.: re-encoded with GC)`,
      clients: '1 document',
      unit: 'KB',
      digits: 2,
      values: values((run) => run.storedBytes / 1024),
      ...(gc === undefined ? {} : { reference: gc / 1024 }),
      goal: { against: 'reference', atMost: 1.1 },
    },
    {
      figure: 'stored size / the same document re-encoded with GC',
      clients: '1 document',
      unit: 'x',
      digits: 2,
      values: values((run) => (run.gcBytes > 0 ? run.storedBytes / run.gcBytes : Number.NaN)),
      reference: 1,
      goal: { against: 'reference', atMost: 1.1 },
    },
    {
      figure: `edits seen by another client, then kill -9: kept (of ${KILL_EDITS})`,
      clients: '2 clients',
      unit: '',
      digits: 0,
      values: values((run) => run.keptAfterKill),
    },
  ]
}
