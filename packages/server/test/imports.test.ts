import { join } from 'node:path'
import type { Role } from '@cardfile/core'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from './storage-helpers'
import { editSchema, makeToken, seedDemo, startServer } from './sync-helpers'
import type { TestServer } from './sync-helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(imports: { maxBytes?: number; maxRowChars?: number } = {}) {
  const { dir, cleanup } = tempDir('cardfile-imports-')
  cleanups.push(cleanup)
  const backend = createSqliteBackend({ path: join(dir, 'cardfile.db') })
  cleanups.push(() => backend.close())
  const running = await startServer({
    backend,
    port: 0,
    host: '127.0.0.1',
    background: { pollMs: 20 },
    imports,
  })
  cleanups.push(() => running.close())
  await seedDemo(running.server)
  return running
}

const token = (role: Role) => makeToken({ user: `${role}-1`, role, workspace: 'demo' })

interface ImportJob {
  readonly id: string
  readonly state: string
  readonly error: string | null
  readonly phase: string
  readonly total: number | null
  readonly rows: number
  readonly created: number
  readonly updated: number
  readonly unchanged: number
  readonly refused: number
  readonly refusals: readonly {
    row: number
    errors: { column: string; code: string; message: string }[]
  }[]
}

async function upload(
  running: TestServer,
  csv: string,
  options: { role?: Role; type?: string } = {},
): Promise<{ status: number; json: { job?: ImportJob; error?: { code: string } } }> {
  const response = await fetch(`${running.server.url}/api/demo/imports`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await token(options.role ?? 'admin')}`,
      'content-type': options.type ?? 'text/csv',
    },
    body: csv,
  })
  return { status: response.status, json: (await response.json()) as { job?: ImportJob } }
}

/** Uploads and waits for the job to end, through the jobs route. */
async function importCsv(
  running: TestServer,
  csv: string,
  role: Role = 'admin',
): Promise<ImportJob> {
  const answer = await upload(running, csv, { role })
  expect(answer.status).toBe(202)
  const id = answer.json.job!.id
  // An import's report is the admins' to read, as the import is theirs to start.
  const admin = await token('admin')
  let job: ImportJob | null = null
  await expect
    .poll(
      async () => {
        const response = await fetch(`${running.server.url}/api/demo/jobs/${id}`, {
          headers: { authorization: `Bearer ${admin}` },
        })
        job = ((await response.json()) as { job: ImportJob }).job
        return job.state
      },
      { timeout: 15_000, interval: 20 },
    )
    .toMatch(/^(done|failed)$/)
  return job!
}

const contacts = async (running: TestServer) =>
  (await running.backend.index.listContacts('demo', { limit: 200, cursor: null })).items

describe('POST /api/<ws>/imports', () => {
  it('creates and updates contacts by channel identity and attribute alias, and reports each refused row', async () => {
    const running = await start()
    const csv = [
      'channel,platformUserId,Plan,note',
      'x,1001,Gold,first',
      'email,ana@example.com,gold,',
      'sms,+15550001,platinum,ok',
      'pigeon,42,,',
      'x,1002,,"a ""q"", b"',
      'x,1001,Silver,',
      'x,1003,silver,way too long note',
      'x,1004,gold',
    ].join('\r\n')
    const job = await importCsv(running, csv)
    expect(job).toMatchObject({
      state: 'done',
      phase: 'done',
      total: 8,
      rows: 8,
      created: 2,
      updated: 2,
      refused: 4,
    })
    expect(job.refusals.map((r) => r.row)).toEqual([4, 5, 8, 9])
    expect(job.refusals[0]!.errors).toEqual([
      expect.objectContaining({ column: 'Plan', code: 'not-an-option' }),
    ])
    // The refused value itself is not kept in the report.
    expect(JSON.stringify(job.refusals)).not.toContain('platinum')
    expect(job.refusals[1]!.errors[0]).toMatchObject({ column: 'channel', code: 'invalid-value' })
    expect(job.refusals[2]!.errors[0]).toMatchObject({ column: 'note', code: 'too-long' })
    expect(job.refusals[3]!.errors[0]).toMatchObject({ column: '*', code: 'bad-request' })

    const rows = await contacts(running)
    // Created once (the contact ingestion finds for this identity), then updated by the later
    // row of the same identity.
    const x1001 = await running.backend.index.findContact('demo', 'x', '1001')
    expect(x1001?.values).toMatchObject({ plan: 'silver', note: 'first' })
    expect(rows.filter((r) => r.channel === 'x')).toHaveLength(2)
    expect(rows.find((r) => r.values.note === 'a "q", b')).toBeDefined()
    // The existing contact c1 got the new plan with the importing admin as provenance.
    const c1 = await fetch(`${running.server.url}/api/demo/contacts/c1`, {
      headers: { authorization: `Bearer ${await token('admin')}` },
    })
    const body = (await c1.json()) as {
      contact: { values: Record<string, { value: string; by: { userId: string } }> }
    }
    expect(body.contact.values.plan).toMatchObject({ value: 'gold', by: { userId: 'admin-1' } })
  })

  it("imports platform and VIP columns by alias with the websocket's authority: an admin's platform value refuses its whole row, VIP follows the setting", async () => {
    const running = await start()
    await editSchema(running.server, 'demo', (schema) =>
      schema.updateSettings({ vipEnabled: false }),
    )
    const csv = [
      'channel,platformUserId,EMAIL,vip,note',
      // An admin may not write a platform value: nothing of the row lands, its note included.
      'email,bo@example.com,bo@example.com,,bo note',
      // VIP is switched off: refused, and the note with it.
      'x,4001,,yes,vip note',
      // Both refused columns are reported, and a VIP cell that is no flag.
      'x,4002,ci@example.com,maybe,ci',
      // Empty platform and VIP cells leave them: the row imports.
      'x,4003,,,plain',
      // An existing contact keeps everything of a refused row.
      'email,ana@example.com,ana@elsewhere.example,,changed',
    ].join('\n')
    const job = await importCsv(running, csv)
    expect(job).toMatchObject({ state: 'done', total: 5, created: 1, refused: 4 })
    expect(job.refusals).toEqual([
      {
        row: 2,
        errors: [
          {
            column: 'EMAIL',
            code: 'forbidden',
            message:
              'the admin role may not change platform attributes (they come from the channel)',
          },
        ],
      },
      { row: 3, errors: [expect.objectContaining({ column: 'vip', code: 'vip-disabled' })] },
      {
        row: 4,
        errors: [
          expect.objectContaining({ column: 'vip', code: 'invalid-value' }),
          expect.objectContaining({ column: 'EMAIL', code: 'forbidden' }),
        ],
      },
      { row: 6, errors: [expect.objectContaining({ column: 'EMAIL', code: 'forbidden' })] },
    ])
    expect(
      (await running.backend.index.findContact('demo', 'email', 'ana@example.com'))?.values,
    ).toEqual({
      email: 'ana@example.com',
      plan: 'silver',
    })
    // The refused value is not kept in the report.
    expect(JSON.stringify(job.refusals)).not.toContain('ci@example.com')
    expect(await running.backend.index.findContact('demo', 'email', 'bo@example.com')).toBeNull()
    expect(await running.backend.index.findContact('demo', 'x', '4001')).toBeNull()
    expect(await running.backend.index.findContact('demo', 'x', '4002')).toBeNull()
    expect((await running.backend.index.findContact('demo', 'x', '4003'))?.values).toEqual({
      note: 'plain',
    })

    await editSchema(running.server, 'demo', (schema) =>
      schema.updateSettings({ vipEnabled: true }),
    )
    const again = await importCsv(
      running,
      'channel,platformUserId,VIP,note\nx,4001,Yes,vip note\nx,4003,true,\nx,4004,no,\n',
    )
    expect(again).toMatchObject({ state: 'done', created: 2, updated: 1, refused: 0 })
    expect((await running.backend.index.findContact('demo', 'x', '4001'))?.vip).toBe(true)
    expect((await running.backend.index.findContact('demo', 'x', '4003'))?.vip).toBe(true)
    expect((await running.backend.index.findContact('demo', 'x', '4004'))?.vip).toBe(false)
  })

  it('lets the system import platform values, checked against their definitions, with its provenance', async () => {
    const running = await start()
    const long = 'a'.repeat(1001)
    const csv = [
      'channel,platformUserId,email,phone_number,x_handle,Plan',
      'email,dee@example.com,Dee@Example.com,,,Gold',
      'sms,+15550009,,+15550009,,',
      `x,4101,,,${long},Gold`,
      'email,ana@example.com,ana.new@example.com,,,',
    ].join('\n')
    const job = await importCsv(running, csv, 'system')
    expect(job).toMatchObject({ state: 'done', created: 2, updated: 1, refused: 1 })
    expect(job.refusals).toEqual([
      { row: 4, errors: [expect.objectContaining({ column: 'x_handle', code: 'too-long' })] },
    ])
    expect(await running.backend.index.findContact('demo', 'x', '4101')).toBeNull()
    const dee = await running.backend.index.findContact('demo', 'email', 'dee@example.com')
    expect(dee?.values).toEqual({ email: 'Dee@Example.com', plan: 'gold' })
    // The email is the matching attribute: the imported value links like an ingested one.
    expect(dee?.matchValue).toBe('dee@example.com')
    expect((await running.backend.index.findContact('demo', 'sms', '+15550009'))?.values).toEqual({
      phone_number: '+15550009',
    })
    const c1 = await fetch(`${running.server.url}/api/demo/contacts/c1`, {
      headers: { authorization: `Bearer ${await token('admin')}` },
    })
    const body = (await c1.json()) as {
      contact: { platform: Record<string, { value: string; by: { role: string } }> }
    }
    expect(body.contact.platform.email).toMatchObject({
      value: 'ana.new@example.com',
      by: { role: 'system' },
    })
  })

  it('imports nothing from a file that is not CSV, with the row that broke it', async () => {
    const running = await start()
    const before = (await contacts(running)).length
    const job = await importCsv(
      running,
      'channel,platformUserId,note\nx,2001,fine\nx,2002,"never closed\n',
    )
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/row 3: a quoted field is not closed/)
    expect(await contacts(running)).toHaveLength(before)
    const stray = await importCsv(running, 'channel,platformUserId,note\nx,2003,bro"ken\n')
    expect(stray.error).toMatch(/row 2: a quote inside an unquoted field/)
    expect(await contacts(running)).toHaveLength(before)
  })

  it('imports nothing when the header names an unknown alias, a retired attribute, or lacks the identity', async () => {
    const running = await start()
    const before = (await contacts(running)).length
    const unknown = await importCsv(running, 'channel,platformUserId,shoe_size\nx,3001,44\n')
    expect(unknown.state).toBe('failed')
    expect(unknown.error).toContain('"shoe_size" is not an attribute alias')
    await editSchema(running.server, 'demo', (schema) => schema.retireAttribute('note'))
    const retired = await importCsv(running, 'channel,platformUserId,note\nx,3002,old\n')
    expect(retired.error).toContain('"note" is retired')
    const identity = await importCsv(running, 'note\nhello\n')
    expect(identity.error).toContain('no "channel" column')
    const twice = await importCsv(running, 'channel,platformUserId,note,NOTE\nx,3003,a,b\n')
    expect(twice.error).toContain('appears twice')
    expect(await contacts(running)).toHaveLength(before)
  })

  it('refuses a row over the row limit and a file over the size limit', async () => {
    const running = await start({ maxBytes: 64 * 1024, maxRowChars: 1024 })
    const huge = await importCsv(
      running,
      `channel,platformUserId,note\nx,4001,${'y'.repeat(2000)}\n`,
    )
    expect(huge.state).toBe('failed')
    expect(huge.error).toMatch(/row 2: longer than 1024 characters/)
    const big = await upload(running, `channel,platformUserId,note\n${'x,1,a\n'.repeat(20_000)}`)
    expect(big.status).toBe(413)
    expect(big.json.error?.code).toBe('payload-too-large')
  })

  it('refuses other roles, other content types and an empty file', async () => {
    const running = await start()
    expect((await upload(running, 'channel,platformUserId\n', { role: 'agent' })).status).toBe(403)
    expect((await upload(running, 'channel,platformUserId\n', { role: 'bot' })).status).toBe(403)
    expect((await upload(running, '{"a":1}', { type: 'application/json' })).status).toBe(415)
    expect((await upload(running, '')).status).toBe(400)
    const get = await fetch(`${running.server.url}/api/demo/imports`, {
      headers: { authorization: `Bearer ${await token('admin')}` },
    })
    expect(get.status).toBe(405)
  })

  it('removes the uploaded file once the import ended', async () => {
    const running = await start()
    const job = await importCsv(running, 'channel,platformUserId,note\nx,5001,kept\n')
    expect(job.state).toBe('done')
    expect(await running.backend.blobs.list('imports/')).toEqual([])
  })

  it('resumes an import cut off by a crash after its last reported row, without importing rows twice', async () => {
    const running = await start()
    const csv = 'channel,platformUserId,note\nx,6001,a\nx,6002,b\nx,6003,c\nx,6004,d\n'
    const blobKey = 'imports/demo/resumed.csv'
    await running.backend.blobs.write(
      blobKey,
      (async function* () {
        yield Buffer.from(csv)
      })(),
    )
    // A job whose earlier run reported its first two rows done before the process died.
    const job = await running.backend.jobs.enqueue({
      kind: 'contact-import',
      workspace: 'demo',
      input: { blobKey, bytes: csv.length, actor: { userId: 'admin-1', role: 'admin' } },
      progress: {
        phase: 'importing',
        total: 4,
        rows: 2,
        created: 2,
        updated: 0,
        unchanged: 0,
        refused: 0,
        refusals: [],
      },
    })
    await expect
      .poll(async () => (await running.backend.jobs.get(job.id))?.state, { timeout: 15_000 })
      .toBe('done')
    expect((await running.backend.jobs.get(job.id))?.result).toMatchObject({
      rows: 4,
      created: 4,
      phase: 'done',
    })
    const imported = (await contacts(running)).filter((r) => r.channel === 'x')
    expect(imported.map((r) => r.platformUserId).sort()).toEqual(['6003', '6004'])
  })
})
