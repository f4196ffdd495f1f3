/**
 * Import benchmark: a CSV of BENCH_IMPORT_ROWS contacts (default 100,000) with 10 custom
 * attributes, uploaded to `POST /api/<ws>/imports` of a server on a SQLite file and imported by
 * its job (each row checked by core's rules and committed as its contact's document, index row
 * and events, as in production). The CSV is generated while it uploads, never whole in memory.
 * Prints rows per second and the peak RSS (sampled every 20 ms; the server runs in this
 * process, so its RSS is ours).
 *
 * Run: node --expose-gc --import tsx bench/src/import.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { SchemaDoc, schemaDocName } from '@cardfile/core'
import type { ChannelId } from '@cardfile/core'
import { createCardfileServer, httpApi, signToken } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000)
const ATTRIBUTES = 10
const WORKSPACE = 'bench'
const SECRET = 'bench-import-secret-long-enough-for-hs256'
const CHANNELS: readonly ChannelId[] = ['x', 'instagram', 'facebook', 'whatsapp', 'sms', 'email']

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** The CSV, row by row: one in a hundred rows breaks a rule (a value that is not an option). */
function* csv(aliases: readonly string[]): Generator<string> {
  yield `channel,platformUserId,${aliases.join(',')}\n`
  for (let i = 0; i < ROWS; i += 1) {
    const cells = aliases.map((_, a) =>
      a % 5 === 0
        ? i % 100 === 99
          ? 'Platinum'
          : ['Bronze', 'Silver', 'Gold'][i % 3]!
        : `v${a}-${i}`,
    )
    yield `${CHANNELS[i % CHANNELS.length]!},user-${i},${cells.join(',')}\n`
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-bench-import-'))
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db'), synchronous: 'normal' })
  const server = await createCardfileServer({
    backend,
    // A benchmark's throwaway workspace, created when first used.
    autoCreateWorkspaces: 'advanced',
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    httpHandler: httpApi(),
    imports: { maxBytes: 1024 * 1024 * 1024 },
    logger: { warn: () => undefined },
  })
  try {
    const aliases = await server.host.transact(
      schemaDocName(WORKSPACE),
      { userId: 'bench', role: 'system' },
      (doc) => {
        const schema = new SchemaDoc(doc)
        try {
          return Array.from({ length: ATTRIBUTES }, (_, i) =>
            i % 5 === 0
              ? schema.createAttribute({
                  label: `Choice ${i}`,
                  type: 'dropdown',
                  options: [{ label: 'Bronze' }, { label: 'Silver' }, { label: 'Gold' }],
                })
              : schema.createAttribute({ label: `Field ${i}`, type: 'text' }),
          ).map((def) => def.alias)
        } finally {
          schema.destroy()
        }
      },
    )
    const token = await signToken({
      secret: SECRET,
      userId: 'ana',
      workspace: WORKSPACE,
      role: 'admin',
    })

    globalThis.gc?.()
    const before = process.memoryUsage()
    let peakRss = before.rss
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
    }, 20)

    const t0 = performance.now()
    const upload = await fetch(`${server.url}/api/${WORKSPACE}/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(Readable.from(csv(aliases))) as ReadableStream,
      duplex: 'half',
    } as RequestInit)
    if (upload.status !== 202)
      throw new Error(`upload answered ${upload.status}: ${await upload.text()}`)
    const { job } = (await upload.json()) as { job: { id: string } }
    const uploaded = (performance.now() - t0) / 1000
    let state = 'queued'
    let report: { rows: number; created: number; refused: number; error: string | null } = {
      rows: 0,
      created: 0,
      refused: 0,
      error: null,
    }
    while (state === 'queued' || state === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 200))
      const answer = await fetch(`${server.url}/api/${WORKSPACE}/jobs/${job.id}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      const body = (await answer.json()) as { job: typeof report & { state: string } }
      state = body.job.state
      report = body.job
    }
    const seconds = (performance.now() - t0) / 1000
    clearInterval(sampler)
    if (state !== 'done') throw new Error(`import ended ${state}: ${report.error ?? ''}`)

    console.log(`import of ${report.rows.toLocaleString('en')} rows x ${ATTRIBUTES} attributes`)
    console.log(`  upload         ${uploaded.toFixed(1)} s`)
    console.log(`  total time     ${seconds.toFixed(1)} s (status polled every 200 ms)`)
    console.log(`  rows/s         ${Math.round(report.rows / seconds).toLocaleString('en')}`)
    console.log(
      `  created        ${report.created.toLocaleString('en')}, refused ${report.refused.toLocaleString('en')}`,
    )
    console.log(
      `  RSS            before ${mb(before.rss)}, peak ${mb(peakRss)} (+${mb(peakRss - before.rss)})`,
    )
  } finally {
    await server.close()
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
