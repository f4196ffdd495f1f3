import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { contactDocName, conversationDocName } from '@cardfile/core'
import { describe, expect, it, vi } from 'vitest'
import type { ContactErasedEvent } from '../src/deletion/contact-erasure'
import { attachmentDir } from '../src/storage/attachments'
import {
  WORKSPACE,
  api,
  createAttribute,
  ingest,
  setValues,
  startPrivacyServer,
  tokenFor,
} from './deletion-harness'
import type { PrivacyServer } from './deletion-harness'

const EMAIL = 'zelda.quibblewick@example.org'
const NAME = 'Zelda Quibblewick'
const MESSAGE = 'My passport number is XQ-778812-ZEBRA, please update it'
const ATTACHMENT_TEXT = 'scan of passport XQ-778812-ZEBRA'
/** Strings that must not survive anywhere; the name's surname and the message's number too. */
const SECRETS = [EMAIL, NAME, 'Quibblewick', 'XQ-778812-ZEBRA', 'passport number']

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) out.push(...filesUnder(path))
    else out.push(path)
  }
  return out
}

/** Which secrets occur in which files (bytes as UTF-8 and as UTF-16, as SQLite may store either). */
function hits(dir: string, secrets: readonly string[]): string[] {
  const found: string[] = []
  for (const file of filesUnder(dir)) {
    const bytes = readFileSync(file)
    for (const s of secrets) {
      if (bytes.includes(Buffer.from(s, 'utf8')) || bytes.includes(Buffer.from(s, 'utf16le'))) {
        found.push(`${s} in ${file}`)
      }
    }
  }
  return found
}

async function seedPerson(running: PrivacyServer) {
  const fullName = await createAttribute(running, { label: 'Full name', type: 'text' })
  const first = await ingest(running, {
    channel: 'email',
    platformUserId: EMAIL,
    metadata: { email: EMAIL, email_name: NAME },
    message: {
      id: 'msg-1',
      text: MESSAGE,
      attachments: [{ id: 'att1', name: 'passport.pdf', contentType: 'application/pdf', size: 32 }],
    },
  })
  await setValues(running, first.contactId, { [fullName]: NAME })
  const folder = attachmentDir(
    running.attachmentsDir,
    conversationDocName(WORKSPACE, first.conversationId),
  )
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, 'att1'), ATTACHMENT_TEXT)
  // Someone else, who must stay.
  const other = await ingest(running, {
    channel: 'sms',
    platformUserId: '+15550100999',
    metadata: { phone_number: '+15550100999' },
    message: { id: 'sms-1', text: 'Hello from another person' },
  })
  return { fullName, first, other }
}

describe('deleting a contact', () => {
  it('leaves no trace of its email, name, messages or attachments in any storage file or log', async () => {
    const consoleLines: string[] = []
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map(String).join(' '))
      })
    }
    try {
      const running = await startPrivacyServer()
      const { first, other } = await seedPerson(running)
      const admin = await tokenFor('admin', 'ana', 'Ana Admin')

      // A finished export holds the person too.
      const started = await api(running, 'POST', `/api/${WORKSPACE}/exports`, admin, {
        type: 'contact-attributes',
      })
      expect(started.status).toBe(202)
      const jobId = (started.json.job as { id: string }).id
      await expect
        .poll(async () => {
          const s = await api(running, 'GET', `/api/${WORKSPACE}/exports/${jobId}`, admin)
          return (s.json.job as { status: string }).status
        })
        .toBe('done')
      // The search finds the strings before the deletion: it is able to fail.
      expect(hits(running.dir, [EMAIL, NAME, 'XQ-778812-ZEBRA']).length).toBeGreaterThan(0)
      expect(hits(running.exportsDir, [EMAIL])).toHaveLength(1)

      const answer = await api(
        running,
        'DELETE',
        `/api/${WORKSPACE}/contacts/${first.contactId}`,
        admin,
      )
      expect(answer.status).toBe(200)
      expect(answer.json.deleted).toMatchObject({
        hint: 'ze***@ex***.org',
        channel: 'email',
        deletedBy: { userId: 'ana', name: 'Ana Admin' },
      })

      // The export that held the person is gone, and says why (the exports consumer removes
      // it on the contact.erased event, right after the deletion answered).
      await running.server.idle()
      const removed = await api(running, 'GET', `/api/${WORKSPACE}/exports/${jobId}`, admin)
      expect(removed.json.job).toMatchObject({ status: 'removed' })
      const download = await api(
        running,
        'GET',
        `/api/${WORKSPACE}/exports/${jobId}/download`,
        admin,
      )
      expect(download.status).toBe(410)

      // The other contact is untouched.
      const contacts = await api(running, 'GET', `/api/${WORKSPACE}/contacts?limit=10`, admin)
      expect((contacts.json.items as { id: string }[]).map((c) => c.id)).toEqual([other.contactId])
      expect(
        await running.backend.documents.isErased(contactDocName(WORKSPACE, first.contactId)),
      ).toBe(true)
      expect(
        await running.backend.documents.isErased(
          conversationDocName(WORKSPACE, first.conversationId),
        ),
      ).toBe(true)

      await running.stop()
      expect(hits(running.dir, SECRETS)).toEqual([])
      const logText = [...running.logs, ...consoleLines].join('\n')
      for (const secret of SECRETS) expect(logText).not.toContain(secret)
    } finally {
      vi.restoreAllMocks()
    }
  })

  it('creates a new contact when the same person writes again', async () => {
    const running = await startPrivacyServer()
    const { first } = await seedPerson(running)
    const admin = await tokenFor('admin')
    expect(
      (await api(running, 'DELETE', `/api/${WORKSPACE}/contacts/${first.contactId}`, admin)).status,
    ).toBe(200)

    const again = await ingest(running, {
      channel: 'email',
      platformUserId: EMAIL,
      metadata: { email: EMAIL },
      message: { id: 'msg-2', text: 'Me again' },
    })
    expect(again.createdContact).toBe(true)
    expect(again.createdConversation).toBe(true)
    expect(again.contactId).not.toBe(first.contactId)
    const contact = await running.backend.index.findContact(WORKSPACE, 'email', EMAIL)
    expect(contact?.id).toBe(again.contactId)
  })

  it('calls the erasure hooks with the contact and its conversations, so outboxes drop them', async () => {
    const events: ContactErasedEvent[] = []
    const running = await startPrivacyServer({ onContactErased: (e) => void events.push(e) })
    const { first } = await seedPerson(running)
    const second = await ingest(running, {
      channel: 'email',
      platformUserId: EMAIL,
      metadata: { email: EMAIL },
      message: { id: 'msg-9', text: 'still there?' },
    })
    expect(second.conversationId).toBe(first.conversationId)
    await api(
      running,
      'DELETE',
      `/api/${WORKSPACE}/contacts/${first.contactId}`,
      await tokenFor('admin'),
    )
    expect(events).toEqual([
      expect.objectContaining({
        workspace: WORKSPACE,
        contactId: first.contactId,
        conversationIds: [first.conversationId],
      }),
    ])
  })

  it('answers 404 for an unknown contact and 410 for one already deleted', async () => {
    const running = await startPrivacyServer()
    const { first } = await seedPerson(running)
    const admin = await tokenFor('admin')
    const path = `/api/${WORKSPACE}/contacts/${first.contactId}`
    expect((await api(running, 'DELETE', `/api/${WORKSPACE}/contacts/nobody`, admin)).status).toBe(
      404,
    )
    expect((await api(running, 'DELETE', path, admin)).status).toBe(200)
    const again = await api(running, 'DELETE', path, admin)
    expect(again.status).toBe(410)
    expect(again.json.error).toMatchObject({ code: 'deleted' })
    const log = await api(running, 'GET', `/api/${WORKSPACE}/deleted-contacts`, admin)
    expect(log.json.items).toHaveLength(1)
  })
})

describe('the deleted-contacts log', () => {
  it('lists records newest first, paginated, with hint, platform, time and admin only', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin', 'ana', 'Ana Admin')
    const ids: string[] = []
    for (const handle of ['anna', 'bruno', 'carla']) {
      const r = await ingest(running, {
        channel: 'x',
        platformUserId: `${handle}-id`,
        metadata: { x_handle: `@${handle}` },
        message: { text: 'hi' },
      })
      ids.push(r.contactId)
    }
    for (const id of ids) {
      expect((await api(running, 'DELETE', `/api/${WORKSPACE}/contacts/${id}`, admin)).status).toBe(
        200,
      )
    }
    const page1 = await api(running, 'GET', `/api/${WORKSPACE}/deleted-contacts?limit=2`, admin)
    expect(page1.status).toBe(200)
    const items1 = page1.json.items as Record<string, unknown>[]
    expect(items1.map((r) => r.hint)).toEqual(['@ca***a', '@br***o'])
    expect(Object.keys(items1[0]!).sort()).toEqual(
      ['channel', 'deletedAt', 'deletedBy', 'hint', 'id', 'workspace'].sort(),
    )
    expect(items1[0]).toMatchObject({
      channel: 'x',
      deletedBy: { userId: 'ana', name: 'Ana Admin' },
    })
    const next = page1.json.next as string
    const page2 = await api(
      running,
      'GET',
      `/api/${WORKSPACE}/deleted-contacts?limit=2&cursor=${encodeURIComponent(next)}`,
      admin,
    )
    expect((page2.json.items as { hint: string }[]).map((r) => r.hint)).toEqual(['@an***a'])
    expect(page2.json.next).toBeNull()
  })

  it('is append-only: no route changes or removes a record, and the table refuses it', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const r = await ingest(running, {
      channel: 'x',
      platformUserId: 'dora-id',
      metadata: { x_handle: '@dora' },
      message: { text: 'hi' },
    })
    await api(running, 'DELETE', `/api/${WORKSPACE}/contacts/${r.contactId}`, admin)
    for (const method of ['DELETE', 'PUT', 'PATCH', 'POST']) {
      const answer = await api(running, method, `/api/${WORKSPACE}/deleted-contacts`, admin, {})
      expect(answer.status).toBe(405)
    }
    await running.stop()
    const Database = (await import('better-sqlite3')).default
    const db = new Database(running.dbPath)
    try {
      expect(() => db.prepare('DELETE FROM deleted_contacts').run()).toThrow(/append-only/)
      expect(() => db.prepare("UPDATE deleted_contacts SET hint = 'x'").run()).toThrow(
        /append-only/,
      )
      expect(db.prepare('SELECT count(*) AS n FROM deleted_contacts').get()).toEqual({ n: 1 })
    } finally {
      db.close()
    }
  })
})

describe('who may delete', () => {
  it('refuses agents, bots and the CRM: they cannot delete or read the log', async () => {
    const running = await startPrivacyServer()
    const { first } = await seedPerson(running)
    for (const role of ['agent', 'bot', 'crm', 'system'] as const) {
      const token = await tokenFor(role)
      const del = await api(
        running,
        'DELETE',
        `/api/${WORKSPACE}/contacts/${first.contactId}`,
        token,
      )
      expect(del.status).toBe(403)
      expect(del.json.error).toMatchObject({ code: 'forbidden' })
      const log = await api(running, 'GET', `/api/${WORKSPACE}/deleted-contacts`, token)
      expect(log.status).toBe(403)
    }
    expect(
      await running.backend.documents.isErased(contactDocName(WORKSPACE, first.contactId)),
    ).toBe(false)
  })

  it('refuses an admin of another workspace', async () => {
    const running = await startPrivacyServer()
    const { first } = await seedPerson(running)
    const { signToken } = await import('../src/tokens')
    const { SECRET } = await import('./deletion-harness')
    const foreign = await signToken({
      secret: SECRET,
      userId: 'x',
      workspace: 'other',
      role: 'admin',
    })
    const del = await api(
      running,
      'DELETE',
      `/api/${WORKSPACE}/contacts/${first.contactId}`,
      foreign,
    )
    expect(del.status).toBe(403)
    expect(del.json.error).toMatchObject({ code: 'wrong-workspace' })
  })
})
