import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { ContactDoc, contactDocName } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { httpApi } from '../src/http/create-http-api'
import { createCardfileServer } from '../src/server'
import { migrate } from '../src/storage/sqlite-schema'
import { createSqliteBackend } from '../src/storage/sqlite-backend'
import type { ContactIndexRow } from '../src/storage/index-store'
import {
  ADMIN,
  SECRET,
  WORKSPACE,
  api,
  createAttribute,
  ingest,
  setValues,
  slowDisk,
  startPrivacyServer,
  tokenFor,
  updateSchema,
} from './deletion-harness'
import type { PrivacyServer } from './deletion-harness'
import { within } from '../src/http/within'

/** Reads RFC 4180 CSV back (test-side only; the export writes with csv-stringify). */
function rowsOf(csv: string): string[][] {
  const text = csv.replace(/^\uFEFF/, '')
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i += 1
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else cell += c
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell])
  return rows
}

const EMPTY = Y.encodeStateAsUpdate(new Y.Doc())

const contactRow = (id: string, hint = 'x'): ContactIndexRow => ({
  kind: 'contact',
  workspace: WORKSPACE,
  id,
  channel: 'sms',
  platformUserId: `+1555-${id}`,
  hint,
  vip: false,
  matchValue: null,
  values: {},
  createdAt: 1_000 + Number(id.replace(/\D/g, '')),
  updatedAt: 1_000,
})

/** Writes a contact's index row straight through storage (an empty document update). */
const putContact = (running: PrivacyServer, id: string, hint: string): Promise<void> =>
  running.backend.documents.append(contactDocName(WORKSPACE, id), EMPTY, contactRow(id, hint))

interface JobJson {
  readonly status: string
  readonly rows: number
  readonly total: number | null
  readonly error: string | null
}

/** Asks for an export, of contact attributes unless `body` names another type; the raw answer. */
const requestExport = (running: PrivacyServer, token: string, body: Record<string, unknown> = {}) =>
  api(running, 'POST', `/api/${WORKSPACE}/exports`, token, { type: 'contact-attributes', ...body })

/** Starts an export (202) and resolves its job id. */
async function startExport(
  running: PrivacyServer,
  token: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const started = await requestExport(running, token, body)
  expect(started.status).toBe(202)
  return (started.json.job as { id: string }).id
}

async function jobOf(running: PrivacyServer, token: string, id: string): Promise<JobJson> {
  return (await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}`, token)).json.job as JobJson
}

async function waitForJob(
  running: PrivacyServer,
  token: string,
  id: string,
  until: (job: JobJson) => boolean,
): Promise<JobJson> {
  let last: JobJson | null = null
  await expect
    .poll(async () => until((last = await jobOf(running, token, id))), { timeout: 10_000 })
    .toBe(true)
  return last!
}

/** The CSV of a finished export. */
async function download(running: PrivacyServer, token: string, id: string): Promise<string> {
  const answer = await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}/download`, token)
  expect(answer.status).toBe(200)
  expect(answer.headers.get('content-type')).toContain('text/csv')
  return answer.text
}

/** Starts an export, waits until it is done with all its progress, and downloads its CSV. */
async function finishedExport(
  running: PrivacyServer,
  token: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const id = await startExport(running, token, body)
  await waitForJob(running, token, id, (job) => job.status === 'done')
  const status = await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}`, token)
  expect(status.json.job).toMatchObject({ progress: 1 })
  return download(running, token, id)
}

/**
 * A server with the HTTP API over the SQLite database at `path`, which outlives it: the caller
 * closes server and backend, and may serve the same file again.
 */
async function serveDatabase(path: string) {
  const backend = createSqliteBackend({ path })
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    host: '127.0.0.1',
    httpHandler: httpApi(),
  })
  return { server, backend, url: server.url }
}

/** Files under `dir` whose bytes contain `needle`. */
function hits(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => readFileSync(file).includes(needle))
}

describe('contact-attribute exports', () => {
  it('writes the fixed columns, then attributes by label in the admin order, dropdowns by label', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const plan = await createAttribute(running, {
      label: 'Plan',
      type: 'dropdown',
      options: [{ label: 'Gold' }, { label: 'Silver' }],
    })
    const account = await createAttribute(running, { label: 'Account id', type: 'text' })
    const old = await createAttribute(running, { label: 'Old field', type: 'text' })
    const gold = await updateSchema(running, (s) => s.definition(plan)!.options[0]!.id)
    const contact = await ingest(running, {
      channel: 'email',
      platformUserId: 'kim@example.org',
      metadata: { email: 'kim@example.org' },
      message: { text: 'hello' },
    })
    await setValues(running, contact.contactId, { [plan]: gold, [account]: 'AC-7', [old]: 'x' })
    // The admin's order: Account id before Plan, and Old field retired (hidden everywhere).
    const order = await updateSchema(running, (s) => {
      s.retireAttribute(old)
      s.moveAttribute(account, { before: plan })
      return (
        s
          .definitions()
          // VIP, the standard attribute, has its own fixed column.
          .filter((d) => !d.retired && d.kind !== 'standard')
          .map((d) => d.label)
      )
    })

    const rows = rowsOf(await finishedExport(running, admin))
    expect(rows[0]).toEqual(['id', 'channel', 'hint', 'VIP', 'created', 'updated', ...order])
    expect(order.indexOf('Account id')).toBeLessThan(order.indexOf('Plan'))
    expect(rows[0]).not.toContain('Old field')
    expect(rows).toHaveLength(2)
    const row = Object.fromEntries(rows[0]!.map((h, i) => [h, rows[1]![i]]))
    expect(row).toMatchObject({
      id: contact.contactId,
      channel: 'email',
      hint: 'ki***@ex***.org',
      VIP: 'no',
      Email: 'kim@example.org',
      Plan: 'Gold',
      'Account id': 'AC-7',
    })
    expect(new Date(row.created!).getTime()).not.toBeNaN()
  })

  it('exports no contact as VIP while VIP is off, and the marked ones again once it is back on', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const contact = await ingest(running, {
      channel: 'sms',
      platformUserId: '+14155550700',
      metadata: {},
      message: { text: 'hello' },
    })
    const view = await updateSchema(running, (s) => s.view())
    await running.server.host.transact(contactDocName(WORKSPACE, contact.contactId), ADMIN, (doc) =>
      within(new ContactDoc(doc, contact.contactId), (c) => c.setVip(true, ADMIN, view)),
    )
    const vipCell = async () => {
      const rows = rowsOf(await finishedExport(running, admin))
      return rows[1]![rows[0]!.indexOf('VIP')]
    }
    expect(await vipCell()).toBe('yes')
    await updateSchema(running, (s) => s.updateSettings({ vipEnabled: false }))
    expect(await vipCell()).toBe('no')
    await updateSchema(running, (s) => s.updateSettings({ vipEnabled: true }))
    expect(await vipCell()).toBe('yes')
  })

  it('prints every attribute type in its display form, and the default for a contact without a value', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const colours = [{ label: 'Red' }, { label: 'Blue' }]
    const ids = {
      age: await createAttribute(running, { label: 'Age', type: 'number' }),
      renewal: await createAttribute(running, { label: 'Renewal', type: 'date' }),
      consent: await createAttribute(running, { label: 'Consent', type: 'checkbox' }),
      site: await createAttribute(running, { label: 'Site', type: 'url' }),
      mail: await createAttribute(running, { label: 'Work email', type: 'email' }),
      mobile: await createAttribute(running, { label: 'Mobile', type: 'phone' }),
      tags: await createAttribute(running, {
        label: 'Tags',
        type: 'multiselect',
        options: colours,
      }),
      story: await createAttribute(running, { label: 'Story', type: 'longtext' }),
      tier: await createAttribute(running, {
        label: 'Tier',
        type: 'number',
        rules: { default: '3' },
      }),
    }
    const options = await updateSchema(running, (s) => s.definition(ids.tags)!.options)
    const contact = await ingest(running, {
      channel: 'email',
      platformUserId: 'lee@example.org',
      metadata: { email: 'lee@example.org' },
      message: { text: 'hello' },
    })
    await setValues(running, contact.contactId, {
      [ids.age]: '-12.5',
      [ids.renewal]: '2031-02-28',
      [ids.consent]: 'true',
      [ids.site]: 'https://example.org/a?b=1,2',
      [ids.mail]: 'lee@example.org',
      [ids.mobile]: '+14155550100',
      [ids.tags]: `${options[1]!.id},${options[0]!.id}`,
      [ids.story]: 'line one\nline "two", with a comma',
    })

    const rows = rowsOf(await finishedExport(running, admin))
    const row = Object.fromEntries(rows[0]!.map((h, i) => [h, rows[1]![i]]))
    // Cells starting with - or + keep the export's formula guard: spreadsheets hide the quote.
    expect(row).toMatchObject({
      Age: "'-12.5",
      Renewal: '2031-02-28',
      Consent: 'Yes',
      Site: 'https://example.org/a?b=1,2',
      'Work email': 'lee@example.org',
      Mobile: "'+14155550100",
      Tags: 'Blue, Red',
      Story: 'line one\nline "two", with a comma',
      Tier: '3',
    })
  })

  it('escapes cells a spreadsheet would run as formulas, in values and in labels', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const note = await createAttribute(running, { label: '=Note', type: 'text' })
    const values = ['=HYPERLINK("http://evil","x")', '+1+2', '-3', '@SUM(A1)', '\tTAB', 'plain']
    for (const [i, value] of values.entries()) {
      const c = await ingest(running, {
        channel: 'webchat',
        platformUserId: `visitor-${i}`,
        metadata: {},
        message: { text: 'hi' },
      })
      await setValues(running, c.contactId, { [note]: value })
    }
    const csv = await finishedExport(running, admin)
    const rows = rowsOf(csv)
    const col = rows[0]!.indexOf("'=Note")
    expect(col).toBeGreaterThan(0)
    const cells = rows.slice(1).map((r) => r[col])
    expect(cells.sort()).toEqual(
      ['\'=HYPERLINK("http://evil","x")', "'+1+2", "'-3", "'@SUM(A1)", "'\tTAB", 'plain'].sort(),
    )
    // No raw line of the file starts a cell with a formula character.
    expect(csv).not.toMatch(/(^|,)[=+@-]/m)
  })

  it('exports only contacts created in the date range', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const at = [Date.parse('2024-01-10T00:00:00Z'), Date.parse('2024-02-10T00:00:00Z')]
    for (const [i, time] of at.entries()) {
      await ingest(running, {
        channel: 'sms',
        platformUserId: `+1555010000${i}`,
        metadata: {},
        message: { text: 'hi', at: time },
      })
    }
    // Contacts are created "now"; the range is over creation time, so a range in 2024 is empty
    // and a range around now holds both.
    expect(
      rowsOf(await finishedExport(running, admin, { from: '2024-01-01', to: '2024-03-01' })),
    ).toHaveLength(1)
    expect(
      rowsOf(
        await finishedExport(running, admin, {
          from: Date.now() - 60_000,
          to: new Date(Date.now() + 60_000).toISOString(),
        }),
      ),
    ).toHaveLength(3)
    const bad = await requestExport(running, admin, { from: '2024-03-01', to: '2024-01-01' })
    expect(bad.status).toBe(400)
  })

  it('is one consistent snapshot: contacts written during the export are not in it', async () => {
    const running = await startPrivacyServer({ exports: { chunkSize: 1 }, blobs: slowDisk(5) })
    const admin = await tokenFor('admin')
    await Promise.all(Array.from({ length: 200 }, (_, i) => putContact(running, `c${i}`, 'before')))
    const id = await startExport(running, admin)
    // The snapshot is open once the job reports its total.
    const open = await waitForJob(running, admin, id, (job) => job.total !== null && job.rows > 0)
    expect(open.total).toBe(200)
    // Writes commit while the export reads one row per step: new contacts, and changes to
    // contacts it has not read yet.
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => putContact(running, `c${1000 + i}`, 'new')),
      ...Array.from({ length: 100 }, (_, i) => putContact(running, `c${100 + i}`, 'changed')),
    ])
    expect((await jobOf(running, admin, id)).status).toBe('running')
    await running.server.idle()
    expect(await jobOf(running, admin, id)).toMatchObject({ status: 'done', rows: 200, total: 200 })
    const rows = rowsOf(await download(running, admin, id)).slice(1)
    expect(rows).toHaveLength(200)
    expect(rows.every((r) => r[2] === 'before')).toBe(true)
  })

  it('answers status and download from storage after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-export-restart-'))
    try {
      const path = join(dir, 'cardfile.db')
      const first = await serveDatabase(path)
      const admin = await tokenFor('admin')
      for (let i = 0; i < 3; i += 1) {
        await first.backend.documents.append(
          contactDocName(WORKSPACE, `r${i}`),
          EMPTY,
          contactRow(`r${i}`),
        )
      }
      const started = await fetch(`${first.url}/api/${WORKSPACE}/exports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'contact-attributes' }),
      })
      const { job } = (await started.json()) as { job: { id: string } }
      await first.server.idle()
      await first.server.close()
      await first.backend.close()
      // The file is in the default folder beside the database.
      expect(readdirSync(`${path}-exports`)).toEqual([`${WORKSPACE}-${job.id}.csv`])

      const second = await serveDatabase(path)
      try {
        const headers = { authorization: `Bearer ${admin}` }
        const status = await fetch(`${second.url}/api/${WORKSPACE}/exports/${job.id}`, { headers })
        expect(((await status.json()) as { job: unknown }).job).toMatchObject({
          id: job.id,
          status: 'done',
          rows: 3,
          total: 3,
          progress: 1,
        })
        const file = await fetch(`${second.url}/api/${WORKSPACE}/exports/${job.id}/download`, {
          headers,
        })
        expect(file.status).toBe(200)
        expect(rowsOf(await file.text())).toHaveLength(4)
      } finally {
        await second.server.close()
        await second.backend.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('moves the export jobs of an older database into the jobs table, files and all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardfile-export-migrate-'))
    try {
      const path = join(dir, 'cardfile.db')
      const old = new Database(path)
      migrate(old, 6)
      const insert = old.prepare(
        `INSERT INTO export_jobs (workspace, id, type, range_from, range_to, status, rows, total,
           file, error, requested_by, created_at, finished_at)
         VALUES (?, ?, 'contact-attributes', NULL, 2000, ?, ?, 5, ?, ?, 'ana', 1000, ?)`,
      )
      const folder = `${path}-exports`
      mkdirSync(folder)
      writeFileSync(join(folder, `${WORKSPACE}-e-done.csv`), 'id\nc1\n')
      insert.run(
        WORKSPACE,
        'e-done',
        'done',
        5,
        join(folder, `${WORKSPACE}-e-done.csv`),
        null,
        1500,
      )
      insert.run(WORKSPACE, 'e-cut', 'running', 2, null, null, null)
      insert.run(WORKSPACE, 'e-gone', 'removed', 5, null, 'a contact was deleted', 1500)
      old.close()

      const { server, backend } = await serveDatabase(path)
      try {
        const admin = await tokenFor('admin')
        const get = (suffix: string) =>
          fetch(`${server.url}/api/${WORKSPACE}/exports/${suffix}`, {
            headers: { authorization: `Bearer ${admin}` },
          })
        expect(((await (await get('e-done')).json()) as { job: unknown }).job).toMatchObject({
          status: 'done',
          rows: 5,
          to: 2000,
          requestedBy: 'ana',
          createdAt: 1000,
          finishedAt: 1500,
        })
        expect(await (await get('e-done/download')).text()).toBe('id\nc1\n')
        expect(((await (await get('e-cut')).json()) as { job: unknown }).job).toMatchObject({
          status: 'failed',
          rows: 2,
        })
        expect(((await (await get('e-gone')).json()) as { job: unknown }).job).toMatchObject({
          status: 'removed',
          error: 'a contact was deleted',
        })
        expect((await get('e-gone/download')).status).toBe(410)
      } finally {
        await server.close()
        await backend.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('exports and contact deletion', () => {
  it('cancels a running export that holds the contact, and removes the finished files that held it', async () => {
    const running = await startPrivacyServer({ exports: { chunkSize: 1 }, blobs: slowDisk(5) })
    const admin = await tokenFor('admin')
    const note = await createAttribute(running, { label: 'Note', type: 'text' })
    const { contactId } = await ingest(running, {
      channel: 'x',
      platformUserId: 'x-del',
      metadata: { x_handle: '@delia' },
      message: { text: 'hi' },
    })
    const SECRET_VALUE = 'QUOKKA-4471-SECRET'
    await setValues(running, contactId, { [note]: SECRET_VALUE })
    await Promise.all(Array.from({ length: 300 }, (_, i) => putContact(running, `b${i}`, 'x')))

    // A finished export that holds the contact, and one whose range (2024) cannot.
    const held = await startExport(running, admin)
    await running.server.idle()
    const older = await startExport(running, admin, { from: '2024-01-01', to: '2024-02-01' })
    await running.server.idle()
    expect(hits(running.exportsDir, SECRET_VALUE)).toHaveLength(1)

    // One running while the contact is deleted.
    const cut = await startExport(running, admin)
    await waitForJob(running, admin, cut, (job) => job.rows > 0)
    const deleted = await api(running, 'DELETE', `/api/${WORKSPACE}/contacts/${contactId}`, admin)
    expect(deleted.status).toBe(200)
    expect(deleted.json.deleted).toMatchObject({ hint: '@de***a' })

    const after = await jobOf(running, admin, cut)
    expect(after.status).toBe('cancelled')
    expect(after.error).toMatch(/deleted/)
    const cutFile = await api(running, 'GET', `/api/${WORKSPACE}/exports/${cut}/download`, admin)
    expect(cutFile.status).toBe(410)
    expect(cutFile.json.error).toMatchObject({ code: 'deleted' })

    await running.server.idle()
    expect(await jobOf(running, admin, held)).toMatchObject({ status: 'removed' })
    expect((await jobOf(running, admin, held)).error).toMatch(/deleted/)
    const heldFile = await api(running, 'GET', `/api/${WORKSPACE}/exports/${held}/download`, admin)
    expect(heldFile.status).toBe(410)
    expect(await jobOf(running, admin, older)).toMatchObject({ status: 'done' })
    expect(readdirSync(running.exportsDir)).toEqual([`${WORKSPACE}-${older}.csv`])
    expect(hits(running.exportsDir, SECRET_VALUE)).toEqual([])
    await running.stop()
    expect(hits(running.exportsDir, SECRET_VALUE)).toEqual([])
  })
  it('lets a running export that cannot hold the contact finish before the erasure seals', async () => {
    const running = await startPrivacyServer({ exports: { chunkSize: 1 }, blobs: slowDisk(2) })
    const admin = await tokenFor('admin')
    const { contactId } = await ingest(running, {
      channel: 'x',
      platformUserId: 'x-keep',
      metadata: { x_handle: '@kept' },
      message: { text: 'hi' },
    })
    // Contacts of 1970, and an export of 1970 only: the contact, created now, is not in it.
    await Promise.all(Array.from({ length: 200 }, (_, i) => putContact(running, `b${i}`, 'x')))
    const id = await startExport(running, admin, { to: 1_000_000 })
    await waitForJob(running, admin, id, (job) => job.rows > 0)
    const deleted = await api(running, 'DELETE', `/api/${WORKSPACE}/contacts/${contactId}`, admin)
    // Answered only once the seal went through, which an open snapshot would have refused.
    expect(deleted.status).toBe(200)
    const answeredAt = Date.now()
    const job = await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}`, admin)
    expect(job.json.job).toMatchObject({ status: 'done', rows: 200 })
    expect((job.json.job as { finishedAt: number }).finishedAt).toBeLessThanOrEqual(answeredAt)
    await running.server.idle()
    expect(await jobOf(running, admin, id)).toMatchObject({ status: 'done' })
    expect(rowsOf(await download(running, admin, id))).toHaveLength(201)
  })
})

describe('who may export', () => {
  it('refuses agents and other roles: no start, status or download', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const id = await startExport(running, admin)
    for (const role of ['agent', 'bot', 'crm', 'system'] as const) {
      const token = await tokenFor(role)
      const start = await requestExport(running, token)
      expect(start.status).toBe(403)
      expect(start.json.error).toMatchObject({ code: 'forbidden' })
      expect((await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}`, token)).status).toBe(403)
      expect(
        (await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}/download`, token)).status,
      ).toBe(403)
    }
  })

  it('refuses a plan without exports with plan-lacks-feature', async () => {
    for (const plan of ['standard', 'business'] as const) {
      const running = await startPrivacyServer({ plan })
      const answer = await requestExport(running, await tokenFor('admin'))
      expect(answer.status).toBe(403)
      expect(answer.json.error).toMatchObject({ code: 'plan-lacks-feature' })
      expect((answer.json.error as { message: string }).message).toMatch(/does not include exports/)
    }
  })

  it('refuses an unknown export type', async () => {
    const running = await startPrivacyServer()
    const answer = await requestExport(running, await tokenFor('admin'), { type: 'everything' })
    expect(answer.status).toBe(400)
  })
})
