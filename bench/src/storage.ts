/**
 * Storage benchmark: a contact document of BENCH_UPDATES updates (default 5,000; five
 * attributes overwritten over and over, as a busy contact is) in a SQLite file. Prints the
 * compacted snapshot's size against the document re-encoded with garbage collection (and against
 * a plain merge of the updates, what a compaction without garbage collection stores), and the
 * cold load of the document by a fresh server, first connection to synced, before and after the
 * compaction (median of BENCH_LOADS runs, default 5).
 *
 *   node --import tsx bench/src/storage.ts
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'

// The packages are imported from their sources (the `source` export condition); re-run with it.
if (!process.execArgv.some((a) => a.includes('conditions=source'))) {
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', fileURLToPath(import.meta.url)],
    { stdio: 'inherit', env: process.env },
  )
  process.exit(result.status ?? 1)
}

const { createCardfileServer, signToken } = await import('@cardfile/server')
const { createSqliteBackend } = await import('@cardfile/server/sqlite')
const { BenchClient } = await import('./bench-client')
const { percentile } = await import('./stats')

const UPDATES = Number(process.env.BENCH_UPDATES ?? 5000)
const LOADS = Number(process.env.BENCH_LOADS ?? 5)
const WORKSPACE = 'bench'
const DOC = `${WORKSPACE}/contact/busy`
const SECRET = 'bench-storage-secret-long-enough-for-hs256'

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-bench-storage-'))
  const path = join(dir, 'cardfile.db')
  // No background compaction: the benchmark compacts when it means to.
  const open = () => createSqliteBackend({ path, compactAfter: Number.MAX_SAFE_INTEGER })
  try {
    const writer = new Y.Doc()
    const updates: Uint8Array[] = []
    writer.on('update', (u: Uint8Array) => updates.push(u))
    const custom = writer.getMap('custom')
    for (let i = 0; i < UPDATES; i++) {
      custom.set(`attr${i % 5}`, {
        value: `value ${i} of a busy contact`,
        by: { role: 'agent', userId: 'bench-agent', at: 1_700_000_000_000 + i },
      })
    }
    const backend = open()
    for (let i = 0; i < updates.length; i += 500) {
      await Promise.all(updates.slice(i, i + 500).map((u) => backend.documents.append(DOC, u)))
    }
    const merged = Y.mergeUpdates(await backend.documents.load(DOC))
    await backend.close()

    const token = await signToken({
      secret: SECRET,
      userId: 'bench-agent',
      workspace: WORKSPACE,
      role: 'agent',
    })
    /** A fresh server on the file: ms from connecting its first client to synced. */
    const coldLoads = async (): Promise<number[]> => {
      const times: number[] = []
      for (let run = 0; run < LOADS; run++) {
        const store = open()
        const server = await createCardfileServer({
          backend: store,
          // A benchmark's throwaway workspace, created when first used.
          autoCreateWorkspaces: 'advanced',
          auth: { secret: SECRET },
          port: 0,
          host: '127.0.0.1',
          logger: { warn: () => undefined },
        })
        try {
          const started = performance.now()
          const client = await BenchClient.connect({
            url: server.wsUrl,
            docName: DOC,
            token,
            handshake: true,
            timeoutMs: 30_000,
          })
          times.push(performance.now() - started)
          if (client.doc.getMap('custom').size !== 5) throw new Error('the document did not load')
          client.close()
        } finally {
          await server.close()
          await store.close()
        }
      }
      return times
    }

    const before = await coldLoads()
    const compacting = open()
    await compacting.documents.compact(DOC)
    const [snapshot] = await compacting.documents.load(DOC)
    await compacting.close()
    const after = await coldLoads()

    const collected = Y.encodeStateAsUpdate(writer).byteLength
    const size = snapshot?.byteLength ?? 0
    console.log(`contact document of ${UPDATES.toLocaleString('en')} updates (5 attributes)`)
    console.log(
      `  snapshot                ${kb(size)} (${(size / collected).toFixed(2)}x the GC re-encoding)`,
    )
    console.log(`  GC re-encoding          ${kb(collected)}`)
    console.log(
      `  merge without GC        ${kb(merged.byteLength)} (${(merged.byteLength / collected).toFixed(2)}x)`,
    )
    const line = (label: string, times: number[]) =>
      console.log(
        `  cold load, ${label} p50 ${percentile(times, 50).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (${LOADS} fresh servers)`,
      )
    line(`${UPDATES} updates`.padEnd(12), before)
    line('compacted'.padEnd(12), after)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
