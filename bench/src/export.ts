/**
 * Export benchmark: a contact-attributes export of BENCH_EXPORT_CONTACTS contacts (default
 * 1,000,000) with 20 custom attributes, through the real HTTP API of a server on a SQLite file.
 * Prints rows per second and the server's peak memory (RSS, sampled every 20 ms) during the
 * export against its memory before it. The server runs in this process, so its RSS is ours.
 *
 * Run: node --expose-gc --import tsx bench/src/export.ts
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaDoc, contactDocName, schemaDocName } from '@cardfile/core'
import type { ChannelId } from '@cardfile/core'
import { createCardfileServer, httpApi, signToken } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import type { ContactIndexRow } from '@cardfile/server'
import * as Y from 'yjs'

const CONTACTS = Number(process.env.BENCH_EXPORT_CONTACTS ?? 1_000_000)
const ATTRIBUTES = 20
const WORKSPACE = 'bench'
const SECRET = 'bench-export-secret-long-enough-for-hs256'
const CHANNELS: readonly ChannelId[] = ['x', 'instagram', 'facebook', 'whatsapp', 'sms', 'email']

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-bench-export-'))
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db'), synchronous: 'normal' })
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    httpHandler: httpApi(),
  })
  try {
    // 20 custom attributes: every fourth a dropdown, so labels are looked up per cell.
    const attributes = await server.host.transact(
      schemaDocName(WORKSPACE),
      { userId: 'bench', role: 'system' },
      (doc) => {
        const schema = new SchemaDoc(doc)
        try {
          return Array.from({ length: ATTRIBUTES }, (_, i) =>
            i % 4 === 0
              ? schema.createAttribute({
                  label: `Choice ${i}`,
                  type: 'dropdown',
                  options: [{ label: 'Bronze' }, { label: 'Silver' }, { label: 'Gold' }],
                })
              : schema.createAttribute({ label: `Field ${i}`, type: 'text' }),
          )
        } finally {
          schema.destroy()
        }
      },
    )

    // Index rows go in directly through storage (an empty document update each), in groups.
    const empty = Y.encodeStateAsUpdate(new Y.Doc())
    const started = performance.now()
    const base = Date.now() - CONTACTS
    const group = 5_000
    for (let from = 0; from < CONTACTS; from += group) {
      const appends: Promise<void>[] = []
      for (let i = from; i < Math.min(CONTACTS, from + group); i += 1) {
        const id = `c${i}`
        const values: Record<string, string> = {}
        for (const [a, def] of attributes.entries()) {
          values[def.id] =
            def.type === 'dropdown' ? def.options[i % 3]!.id : `value ${a} of contact ${i}`
        }
        const row: ContactIndexRow = {
          kind: 'contact',
          workspace: WORKSPACE,
          id,
          channel: CHANNELS[i % CHANNELS.length]!,
          platformUserId: `user-${i}`,
          hint: `us***${i % 10}`,
          vip: i % 10 === 0,
          matchValue: null,
          values,
          createdAt: base + i,
          updatedAt: base + i,
        }
        appends.push(backend.documents.append(contactDocName(WORKSPACE, id), empty, row))
      }
      await Promise.all(appends)
    }
    const seeded = (performance.now() - started) / 1000
    console.log(`seeded ${CONTACTS.toLocaleString('en')} contacts in ${seeded.toFixed(1)} s`)

    globalThis.gc?.()
    const before = process.memoryUsage()
    let peakRss = before.rss
    let peakHeap = before.heapUsed
    const sampler = setInterval(() => {
      const m = process.memoryUsage()
      peakRss = Math.max(peakRss, m.rss)
      peakHeap = Math.max(peakHeap, m.heapUsed)
    }, 20)

    const token = await signToken({
      secret: SECRET,
      userId: 'ana',
      workspace: WORKSPACE,
      role: 'admin',
    })
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const t0 = performance.now()
    const start = await fetch(`${server.url}/api/${WORKSPACE}/exports`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'contact-attributes' }),
    })
    const { job } = (await start.json()) as { job: { id: string; total: number } }
    let status = 'running'
    let rows = 0
    while (status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const answer = await fetch(`${server.url}/api/${WORKSPACE}/exports/${job.id}`, { headers })
      const body = (await answer.json()) as { job: { status: string; rows: number } }
      status = body.job.status
      rows = body.job.rows
    }
    const seconds = (performance.now() - t0) / 1000
    clearInterval(sampler)
    if (status !== 'done') throw new Error(`export ended ${status}`)
    // The default export folder beside the database.
    const file = join(dir, 'cardfile.db-exports', `${WORKSPACE}-${job.id}.csv`)

    console.log(`export of ${rows.toLocaleString('en')} contacts x ${ATTRIBUTES} attributes`)
    console.log(`  time           ${seconds.toFixed(1)} s (status polled every 100 ms)`)
    console.log(`  rows/s         ${Math.round(rows / seconds).toLocaleString('en')}`)
    console.log(`  CSV size       ${mb(statSync(file).size)}`)
    console.log(
      `  server RSS     before ${mb(before.rss)}, peak ${mb(peakRss)} (+${mb(peakRss - before.rss)})`,
    )
    console.log(
      `  server heap    before ${mb(before.heapUsed)}, peak ${mb(peakHeap)} (+${mb(peakHeap - before.heapUsed)})`,
    )
  } finally {
    await server.close()
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
