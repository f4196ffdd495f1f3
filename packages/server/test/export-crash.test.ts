import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { contactDocName } from '@cardfile/core'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import { signToken } from '../src/tokens'
import { startFixture } from './fixture-process'

const fixture = fileURLToPath(new URL('./fixtures/export-crash-server.ts', import.meta.url))
const SECRET = 'export-crash-secret-long-enough-for-hs256'
const WORKSPACE = 'acme'
const CONTACTS = 3000
const cleanups: (() => void | Promise<void>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Starts the fixture on `path` and resolves once it listens. */
async function serve(path: string, args: readonly string[] = []) {
  const served = await startFixture<{ url: string }>(fixture, [path, ...args], cleanups, {
    CARDFILE_TEST_SECRET: SECRET,
  })
  return { ...served, url: served.ready.url }
}

/** Contacts straight into the index, each with a hint that names it. */
async function seed(path: string): Promise<void> {
  const backend = createSqliteBackend({ path })
  const empty = Y.encodeStateAsUpdate(new Y.Doc())
  await Promise.all(
    Array.from({ length: CONTACTS }, (_, i) =>
      backend.documents.append(contactDocName(WORKSPACE, `c${i}`), empty, {
        kind: 'contact',
        workspace: WORKSPACE,
        id: `c${i}`,
        channel: 'sms',
        platformUserId: `+1555${i}`,
        hint: `hint-${i}`,
        vip: false,
        matchValue: null,
        values: {},
        createdAt: 1_000 + i,
        updatedAt: 1_000 + i,
      }),
    ),
  )
  await backend.close()
}

interface JobJson {
  readonly status: string
  readonly rows: number
  readonly total: number | null
}

describe('exports under kill -9', () => {
  it('finishes an export cut off by a killed process exactly once, after the restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-export-crash-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'cardfile.db')
    const folder = `${path}-exports`
    await seed(path)
    const token = await signToken({
      secret: SECRET,
      userId: 'ana',
      workspace: WORKSPACE,
      role: 'admin',
    })
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const jobAt = async (url: string, id: string): Promise<JobJson> => {
      const answer = await fetch(`${url}/api/${WORKSPACE}/exports/${id}`, { headers })
      return ((await answer.json()) as { job: JobJson }).job
    }

    // 3000 rows in chunks of 10, each chunk 3 ms on the slow disk: about 2 s of work.
    const first = await serve(path, ['--slow', '3'])
    const started = await fetch(`${first.url}/api/${WORKSPACE}/exports`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'contact-attributes' }),
    })
    expect(started.status).toBe(202)
    const { id } = ((await started.json()) as { job: { id: string } }).job
    let cut: JobJson | null = null
    await expect
      .poll(
        async () => {
          cut = await jobAt(first.url, id)
          return cut.rows > 0 && cut.rows < CONTACTS
        },
        { timeout: 20_000, interval: 20 },
      )
      .toBe(true)
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    expect(cut).toMatchObject({ status: 'running', total: CONTACTS })
    // Nothing was published under the export's name: at most the cut-off temporary file.
    expect(readdirSync(folder).filter((f) => !f.startsWith('.tmp-'))).toEqual([])

    // The lease of the killed process runs out after 2 s; the new one takes the job over.
    const second = await serve(path)
    await expect
      .poll(async () => (await jobAt(second.url, id)).status, { timeout: 20_000, interval: 50 })
      .toBe('done')
    expect(await jobAt(second.url, id)).toMatchObject({
      rows: CONTACTS,
      total: CONTACTS,
      progress: 1,
    })
    const download = await fetch(`${second.url}/api/${WORKSPACE}/exports/${id}/download`, {
      headers,
    })
    expect(download.status).toBe(200)
    const lines = (await download.text())
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\n')
    expect(lines[0]).toMatch(/^id,channel,hint,VIP,created,updated/)
    const ids = lines.slice(1).map((line) => line.split(',')[0])
    expect(ids).toHaveLength(CONTACTS)
    expect(new Set(ids).size).toBe(CONTACTS)
    expect(ids).toEqual(Array.from({ length: CONTACTS }, (_, i) => `c${i}`))
    // One file, whole: the temporary one of the killed run was cleared away.
    expect(readdirSync(folder)).toEqual([`${WORKSPACE}-${id}.csv`])

    second.child.kill('SIGTERM')
    expect(await second.exited).toBe('0')
    const db = new Database(path, { readonly: true })
    try {
      const row = db.prepare('SELECT state, attempts FROM jobs WHERE id = ?').get(id)
      // Taken once by each process, done once.
      expect(row).toEqual({ state: 'done', attempts: 2 })
    } finally {
      db.close()
    }
  }, 60_000)
})
