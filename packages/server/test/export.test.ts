import { readFileSync, readdirSync } from 'node:fs'
import { contactDocName } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { deleteContact } from '../src/deletion/delete-contact'
import { createExportService } from '../src/exports/export-service'
import {
  WORKSPACE,
  api,
  createAttribute,
  ingest,
  setValues,
  startPrivacyServer,
  tokenFor,
  updateSchema,
} from './deletion-harness'
import type { PrivacyServer } from './deletion-harness'

async function finishedExport(
  running: PrivacyServer,
  token: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const started = await api(running, 'POST', `/api/${WORKSPACE}/exports`, token, {
    type: 'contact-attributes',
    ...body,
  })
  expect(started.status).toBe(202)
  const id = (started.json.job as { id: string }).id
  await expect
    .poll(async () => {
      const s = await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}`, token)
      return (s.json.job as { status: string }).status
    })
    .toBe('done')
  const status = await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}`, token)
  expect(status.json.job).toMatchObject({ progress: 1 })
  const download = await api(running, 'GET', `/api/${WORKSPACE}/exports/${id}/download`, token)
  expect(download.status).toBe(200)
  expect(download.headers.get('content-type')).toContain('text/csv')
  return download.text
}

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
      return s
        .definitions()
        .filter((d) => !d.retired)
        .map((d) => d.label)
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
    const bad = await api(running, 'POST', `/api/${WORKSPACE}/exports`, admin, {
      type: 'contact-attributes',
      from: '2024-03-01',
      to: '2024-01-01',
    })
    expect(bad.status).toBe(400)
  })

  it('is one consistent snapshot: contacts written during the export are not in it', async () => {
    const running = await startPrivacyServer()
    const empty = Y.encodeStateAsUpdate(new Y.Doc())
    const put = (i: number, hint: string) =>
      running.storage.append(contactDocName(WORKSPACE, `c${i}`), empty, {
        kind: 'contact',
        workspace: WORKSPACE,
        id: `c${i}`,
        channel: 'sms',
        platformUserId: `+1555${i}`,
        hint,
        vip: false,
        matchValue: null,
        values: {},
        createdAt: 1_000 + i,
        updatedAt: 1_000 + i,
      })
    await Promise.all(Array.from({ length: 200 }, (_, i) => put(i, 'before')))
    const exports = createExportService({
      store: running.storage.exportStore!,
      host: running.server.host,
      dir: running.exportsDir,
      chunkSize: 1,
    })
    const job = await exports.start(WORKSPACE, 'ana', { type: 'contact-attributes' })
    expect(job.total).toBe(200)
    // Writes commit while the export reads one row per event-loop turn: new contacts, and
    // changes to contacts it has not read yet.
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => put(1000 + i, 'new')),
      ...Array.from({ length: 100 }, (_, i) => put(100 + i, 'changed')),
    ])
    expect((await exports.status(WORKSPACE, job.id))?.status).toBe('running')
    await expect.poll(async () => (await exports.status(WORKSPACE, job.id))?.status).toBe('done')
    const { path } = await exports.file(WORKSPACE, job.id)
    const rows = rowsOf(readFileSync(path, 'utf8')).slice(1)
    expect(rows).toHaveLength(200)
    expect(rows.every((r) => r[2] === 'before')).toBe(true)
    expect((await exports.status(WORKSPACE, job.id))?.rows).toBe(200)
    await exports.close()
  })
})

describe('exports and contact deletion', () => {
  it('cancels a running export that holds the contact, so the erasure can checkpoint the WAL', async () => {
    const running = await startPrivacyServer()
    const { contactId } = await ingest(running, {
      channel: 'x',
      platformUserId: 'x-del',
      metadata: { x_handle: '@delia' },
      message: { text: 'hi' },
    })
    const empty = Y.encodeStateAsUpdate(new Y.Doc())
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        running.storage.append(contactDocName(WORKSPACE, `b${i}`), empty, {
          kind: 'contact',
          workspace: WORKSPACE,
          id: `b${i}`,
          channel: 'sms',
          platformUserId: `+1666${i}`,
          hint: 'x',
          vip: false,
          matchValue: null,
          values: {},
          createdAt: 1_000 + i,
          updatedAt: 1_000 + i,
        }),
      ),
    )
    const exports = createExportService({
      store: running.storage.exportStore!,
      host: running.server.host,
      dir: running.exportsDir,
      chunkSize: 1,
    })
    const job = await exports.start(WORKSPACE, 'ana', { type: 'contact-attributes' })
    const record = await deleteContact(
      {
        host: running.server.host,
        storage: running.storage,
        log: running.storage.deletionLog!,
        exports,
      },
      WORKSPACE,
      contactId,
      { userId: 'ana' },
    )
    expect(record.hint).toBe('@de***a')
    const after = await exports.status(WORKSPACE, job.id)
    expect(after?.status).toBe('cancelled')
    expect(after?.error).toMatch(/deleted/)
    await expect(exports.file(WORKSPACE, job.id)).rejects.toMatchObject({ code: 'deleted' })
    expect(readdirSync(running.exportsDir)).toEqual([])
    await exports.close()
  })
})

describe('who may export', () => {
  it('refuses agents and other roles: no start, status or download', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const started = await api(running, 'POST', `/api/${WORKSPACE}/exports`, admin, {
      type: 'contact-attributes',
    })
    const id = (started.json.job as { id: string }).id
    for (const role of ['agent', 'bot', 'crm', 'system'] as const) {
      const token = await tokenFor(role)
      const start = await api(running, 'POST', `/api/${WORKSPACE}/exports`, token, {
        type: 'contact-attributes',
      })
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
      const answer = await api(
        running,
        'POST',
        `/api/${WORKSPACE}/exports`,
        await tokenFor('admin'),
        {
          type: 'contact-attributes',
        },
      )
      expect(answer.status).toBe(403)
      expect(answer.json.error).toMatchObject({ code: 'plan-lacks-feature' })
      expect((answer.json.error as { message: string }).message).toMatch(/does not include exports/)
    }
  })

  it('refuses an unknown export type', async () => {
    const running = await startPrivacyServer()
    const answer = await api(
      running,
      'POST',
      `/api/${WORKSPACE}/exports`,
      await tokenFor('admin'),
      {
        type: 'everything',
      },
    )
    expect(answer.status).toBe(400)
  })
})
