/**
 * Entry point of a server child process: `node --expose-gc --import tsx server-process.ts <kind>`.
 * The server runs alone in its process so its memory and CPU are measured without the clients'.
 * It reports over IPC: ready (URL and tokens), then answers memory / cpu / stop requests.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBareRelay } from './bare-relay'
import type { ChildMessage, MemorySample, Request, ServerKind } from './ipc'

const send = (message: ChildMessage): void => {
  process.send?.(message)
}

/** Collects garbage until the heap stops shrinking, so a sample holds live objects only. */
function settledMemory(): MemorySample {
  const gc = globalThis.gc
  if (gc === undefined) throw new Error('server child needs node --expose-gc')
  let previous = Number.POSITIVE_INFINITY
  for (let round = 0; round < 6; round++) {
    gc()
    const used = process.memoryUsage().heapUsed
    if (used >= previous - 1024) break
    previous = used
  }
  const { rss, heapUsed, external } = process.memoryUsage()
  return { rss, heapUsed, external }
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind
  const dataDir = mkdtempSync(join(tmpdir(), 'cardfile-bench-'))
  // Loaded only when asked for, so the bare relay's process holds no Cardfile code in memory.
  const server =
    kind === 'cardfile'
      ? await (await import('./cardfile-server')).startCardfile(join(dataDir, 'bench.db'))
      : kind === 'hocuspocus'
        ? await (
            await import('./hocuspocus-server')
          ).startHocuspocus(join(dataDir, 'hocuspocus.db'))
        : { ...(await startBareRelay()), tokens: null }
  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= server.close().finally(() => rmSync(dataDir, { recursive: true, force: true }))
    return stopping
  }
  process.on('message', (request: Request) => {
    try {
      if (request.kind === 'memory') {
        send({ type: 'reply', id: request.id, memory: settledMemory() })
      } else if (request.kind === 'cpu') {
        send({ type: 'reply', id: request.id, cpu: process.cpuUsage() })
      } else {
        void stop()
          .catch((error: unknown) => console.error(error))
          .then(() => {
            send({ type: 'reply', id: request.id, stopped: true })
            process.disconnect()
          })
      }
    } catch (error) {
      send({ type: 'reply', id: request.id, error: String(error) })
    }
  })
  // The parent going away (or Ctrl-C on the whole process group) must never leave a server or
  // its temporary SQLite files behind.
  const stopAndExit = (): void => {
    void stop().finally(() => process.exit(0))
  }
  process.on('disconnect', stopAndExit)
  process.on('SIGINT', stopAndExit)
  process.on('SIGTERM', stopAndExit)
  send({ type: 'ready', url: server.url, tokens: server.tokens })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
