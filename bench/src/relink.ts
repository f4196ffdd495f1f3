/**
 * Re-link benchmark: 100,000 contacts across channels in a SQLite file (index rows written
 * straight through backend), then the matching attribute changes and the workspace is re-linked
 * in the background while link-group, history and VIP-group queries run against the index.
 * Prints the re-link time and the latency percentiles of the queries during it.
 *
 *   node --import tsx bench/src/relink.ts            (BENCH_CONTACTS=100000 by default)
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChannelId } from '@cardfile/core'

// The packages are imported from their sources (the `source` export condition); re-run with it.
if (!process.execArgv.some((a) => a.includes('conditions=source'))) {
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', fileURLToPath(import.meta.url)],
    { stdio: 'inherit', env: process.env },
  )
  process.exit(result.status ?? 1)
}

const { createSqliteBackend } = await import('@cardfile/server/sqlite')
const { linkGroup } = await import('../../packages/server/src/linking/link-groups')
const { groupHistory } = await import('../../packages/server/src/linking/group-history')
const { relinkJobHandler, relinkView, RELINK_JOB } =
  await import('../../packages/server/src/linking/relink-job')
const { startJobRunner } = await import('../../packages/server/src/jobs/job-runner')
const { normaliseMatchValue } = await import('../../packages/server/src/linking/normalise')
const Y = await import('yjs')

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000)
/** Contacts per person: each person appears on about this many channels. */
const PER_PERSON = 3
const WS = 'bench'
const CHANNELS: readonly ChannelId[] = ['email', 'webchat', 'whatsapp', 'sms', 'x', 'instagram']

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!

const dir = mkdtempSync(join(tmpdir(), 'cardfile-relink-bench-'))
const backend = createSqliteBackend({ path: join(dir, 'bench.db'), synchronous: 'normal' })
const empty = Y.encodeStateAsUpdate(new Y.Doc())

try {
  // --- seed ------------------------------------------------------------------------------
  const seedStart = performance.now()
  const base = Date.now() - CONTACTS * 1000
  const pending: Promise<void>[] = []
  for (let i = 0; i < CONTACTS; i += 1) {
    const person = Math.floor(i / PER_PERSON)
    const channel = CHANNELS[i % CHANNELS.length]!
    const id = `c${String(i).padStart(7, '0')}`
    // Email spelled differently per channel; a member number every contact of a person shares.
    const values: Record<string, string> = {
      email: i % 2 === 0 ? `Person${person}@Example.org ` : `person${person}@example.org`,
      member_no: `M-${person}`,
    }
    const createdAt = base + i * 1000
    pending.push(
      backend.documents.append(`${WS}/contact/${id}`, empty, {
        kind: 'contact',
        workspace: WS,
        id,
        channel,
        platformUserId: `${channel}-${i}`,
        hint: '',
        vip: i % 50 === 0,
        matchValue: normaliseMatchValue(values.email),
        values,
        createdAt,
        updatedAt: createdAt,
      }),
      backend.documents.append(`${WS}/conversation/v${id}`, empty, {
        kind: 'conversation',
        workspace: WS,
        id: `v${id}`,
        contactId: id,
        channel,
        status: i % 3 === 0 ? 'resolved' : 'new',
        team: null,
        priority: 0,
        createdAt: createdAt + 10,
        updatedAt: createdAt + 10,
      }),
    )
    if (pending.length >= 10_000) await Promise.all(pending.splice(0))
  }
  await Promise.all(pending)
  const seedMs = performance.now() - seedStart

  // --- queries alone (baseline) ----------------------------------------------------------
  const randomContact = (): string =>
    `c${String(Math.floor(Math.random() * CONTACTS)).padStart(7, '0')}`
  const timings = { group: [] as number[], history: [] as number[], vip: [] as number[] }
  const queryOnce = async (into: typeof timings): Promise<void> => {
    let t = performance.now()
    const group = await linkGroup(backend.index, backend.links, WS, randomContact())
    into.group.push(performance.now() - t)
    t = performance.now()
    await groupHistory(
      backend.index,
      WS,
      group.members.map((m) => m.id),
      50,
      null,
    )
    into.history.push(performance.now() - t)
    t = performance.now()
    await backend.index.listContacts(WS, { vip: true, limit: 50 })
    into.vip.push(performance.now() - t)
  }
  const idle = { group: [] as number[], history: [] as number[], vip: [] as number[] }
  for (let i = 0; i < 500; i += 1) await queryOnce(idle)

  // --- re-link while querying ------------------------------------------------------------
  // The server's way: a job in the jobs table, taken and run by the job runner.
  const quiet = { info: () => undefined, warn: () => undefined, error: console.error }
  const runner = startJobRunner({
    store: backend.jobs,
    handlers: [relinkJobHandler({ links: backend.links, chunkSize: 500, logger: quiet })],
    owner: 'bench',
    logger: quiet,
  })
  const relinkStart = performance.now()
  const queued = await backend.jobs.enqueue({
    kind: RELINK_JOB,
    workspace: WS,
    input: { attribute: 'member_no' },
  })
  runner.poke()
  let running = true
  const finished = runner.settled().then(async () => {
    running = false
    const job = await backend.jobs.get(queued.id)
    return job === null ? undefined : relinkView(job)
  })
  // Queries one after another until the job is done, each in its own event-loop turn as
  // requests arriving on sockets are (a loop of promise callbacks alone would starve the job).
  while (running) {
    await queryOnce(timings)
    await new Promise((resolve) => setImmediate(resolve))
  }
  const done = await finished
  await runner.stop()
  const relinkMs = performance.now() - relinkStart

  const group = await linkGroup(backend.index, backend.links, WS, 'c0000000')
  const row = (name: string, samples: number[]): string => {
    const s = [...samples].sort((a, b) => a - b)
    return `| ${name} | ${s.length} | ${percentile(s, 0.5).toFixed(2)} | ${percentile(s, 0.99).toFixed(2)} |`
  }
  console.log(`\n## Re-link benchmark (${CONTACTS.toLocaleString('en')} contacts, SQLite)\n`)
  console.log(
    `- seed (contacts + one conversation each, through backend): ${(seedMs / 1000).toFixed(1)} s`,
  )
  console.log(
    `- re-link after the matching attribute changed (email -> member number): ${(relinkMs / 1000).toFixed(2)} s ` +
      `(state ${done?.state}, ${done?.processed} read, ${done?.changed} changed)`,
  )
  console.log(
    `- group of c0000000 after: ${group.members.length} contacts (expected ${PER_PERSON})\n`,
  )
  console.log('| query | samples | p50 ms | p99 ms |')
  console.log('| --- | ---: | ---: | ---: |')
  console.log(row('link group, idle', idle.group))
  console.log(row('link group, during re-link', timings.group))
  console.log(row('history page, idle', idle.history))
  console.log(row('history page, during re-link', timings.history))
  console.log(row('VIP group page, idle', idle.vip))
  console.log(row('VIP group page, during re-link', timings.vip))
} finally {
  await backend.close()
  rmSync(dir, { recursive: true, force: true })
}
