/**
 * A small CRM that implements Cardfile's CRM contract (docs/crm-api.md) with its own backend
 * (a JSON file), for tests and the demo. It verifies every request's signature, applies each
 * write-back once per idempotency key, and can be told to be slow, to fail, to answer garbage
 * or to go down, through `setBehaviour` or `POST /admin/behaviour`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** A CRM record: the values that find it (by alias) and the values it holds (by alias). */
export interface CrmRecord {
  readonly id: string
  /** Lookup values (by alias) that identify the record; one equal value is a match. */
  readonly match: Readonly<Record<string, string>>
  /** The record's values (by alias) returned on lookup and updated by write-backs. */
  values: Record<string, string | null>
  /** Cardfile contact ids seen for this record (set by lookups). */
  contacts: string[]
}

/** A write-back the CRM applied (once per idempotency key). */
export interface AppliedWriteBack {
  readonly key: string
  readonly contactId: string
  readonly sequence: number
  readonly values: Readonly<Record<string, string | null>>
  readonly conversationId: string
  readonly at: number
}

/** How the CRM misbehaves. */
export interface Behaviour {
  /** Wait this long before answering, in ms. */
  readonly delayMs: number
  /** Answer every contract request with this status (null: behave). */
  readonly failStatus: number | null
  /** Drop every contract connection without an answer, as a CRM that is down. */
  readonly down: boolean
  /** Answer lookups with this raw text instead of the real answer (null: behave). */
  readonly lookupBody: string | null
  /** Apply this many write-backs but answer 500, as a CRM that fails after committing. */
  readonly failAfterApply: number
}

/** Everything the CRM received, applied or not (duplicates and refusals included). */
export interface ReceivedRequest {
  readonly path: string
  readonly key: string | null
  /** The `x-cardfile-timestamp` header as sent. */
  readonly timestamp: string | null
  readonly signatureOk: boolean
  readonly body: unknown
  readonly at: number
}

interface StoredData {
  records: CrmRecord[]
  applied: Record<string, number>
  writeBacks: AppliedWriteBack[]
  notifications: unknown[]
}

export interface ReferenceCrmOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly host?: string
  /** The JSON file the CRM keeps its records, applied keys and write-backs in. */
  readonly dataFile: string
  /** The workspace secret shared with Cardfile (hex). */
  readonly secret: string
  /** Records to create when the data file is new. */
  readonly seed?: readonly Omit<CrmRecord, 'contacts'>[]
}

export interface ReferenceCrm {
  readonly port: number
  readonly url: string
  /** The base of the three contract URLs (`cardfile serve --demo --crm-url <baseUrl>`). */
  readonly baseUrl: string
  readonly lookupUrl: string
  readonly writeBackUrl: string
  readonly notificationUrl: string
  setBehaviour(patch: Partial<Behaviour>): Behaviour
  behaviour(): Behaviour
  setSecret(secret: string): void
  putRecord(record: Omit<CrmRecord, 'contacts'>): void
  records(): readonly CrmRecord[]
  writeBacks(): readonly AppliedWriteBack[]
  notifications(): readonly unknown[]
  received(): readonly ReceivedRequest[]
  close(): Promise<void>
}

const NORMAL: Behaviour = {
  delayMs: 0,
  failStatus: null,
  down: false,
  lookupBody: null,
  failAfterApply: 0,
}

const sign = (body: Buffer, secret: string): string =>
  `sha256=${createHmac('sha256', Buffer.from(secret, 'hex')).update(body).digest('hex')}`

const verify = (body: Buffer, header: string | undefined, secret: string): boolean => {
  if (header === undefined) return false
  const expected = Buffer.from(sign(body, secret))
  const given = Buffer.from(header)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > 1024 * 1024) throw new Error('body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

const reply = (res: ServerResponse, status: number, body: unknown): void => {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

const same = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase()

/**
 * Starts the reference CRM.
 *
 * @example
 * const crm = await startReferenceCrm({ port: 0, dataFile: '/tmp/crm.json', secret })
 * crm.putRecord({ id: 'r1', match: { email: 'ana@example.com' }, values: { tier: 'Gold' } })
 * // configure Cardfile with crm.lookupUrl, crm.writeBackUrl, crm.notificationUrl
 * crm.setBehaviour({ down: true }) // later: crm.setBehaviour({ down: false })
 */
export async function startReferenceCrm(options: ReferenceCrmOptions): Promise<ReferenceCrm> {
  let secret = options.secret
  let behaviour: Behaviour = { ...NORMAL }
  const received: ReceivedRequest[] = []
  const sockets = new Set<Socket>()

  const data: StoredData = existsSync(options.dataFile)
    ? (JSON.parse(readFileSync(options.dataFile, 'utf8')) as StoredData)
    : {
        records: (options.seed ?? []).map((r) => ({ ...r, values: { ...r.values }, contacts: [] })),
        applied: {},
        writeBacks: [],
        notifications: [],
      }
  const save = (): void => {
    // Write then rename: a crash never leaves half a file.
    const tmp = `${options.dataFile}.tmp`
    writeFileSync(tmp, JSON.stringify(data, null, 2))
    renameSync(tmp, options.dataFile)
  }
  save()

  const findRecord = (lookup: Record<string, unknown>, contactId: string): CrmRecord | undefined =>
    data.records.find((r) => r.contacts.includes(contactId)) ??
    data.records.find((r) =>
      Object.entries(r.match).some(([alias, value]) => {
        const given = lookup[alias]
        return typeof given === 'string' && same(given, value)
      }),
    )

  const contract = (
    path: string,
    body: Record<string, unknown>,
    key: string,
  ): [number, unknown] => {
    const contact = (body.contact ?? {}) as { id?: string; lookup?: Record<string, unknown> }
    const contactId = String(contact.id ?? '')
    if (path === '/cardfile/lookup') {
      if (behaviour.lookupBody !== null) return [200, behaviour.lookupBody]
      const lookup = (body.lookup ?? {}) as Record<string, unknown>
      const record = findRecord(lookup, contactId)
      if (record === undefined) return [200, { found: false }]
      if (!record.contacts.includes(contactId)) record.contacts.push(contactId)
      save()
      return [200, { found: true, values: record.values }]
    }
    if (data.applied[key] !== undefined) return [200, { duplicate: true }]
    if (path === '/cardfile/write-back') {
      const record = findRecord(contact.lookup ?? {}, contactId)
      if (record === undefined) return [404, { error: 'no record for this contact' }]
      const values = (body.values ?? {}) as Record<string, string | null>
      Object.assign(record.values, values)
      const conversation = (body.conversation ?? {}) as { id?: string }
      data.writeBacks.push({
        key,
        contactId,
        sequence: Number(body.sequence),
        values,
        conversationId: String(conversation.id ?? ''),
        at: Date.now(),
      })
    } else {
      data.notifications.push(body)
    }
    data.applied[key] = Date.now()
    save()
    if (behaviour.failAfterApply > 0) {
      behaviour = { ...behaviour, failAfterApply: behaviour.failAfterApply - 1 }
      return [500, { error: 'applied, but the answer failed' }]
    }
    return [200, { ok: true }]
  }

  const admin = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === '/admin/behaviour' && req.method === 'POST') {
      const patch = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Partial<Behaviour>
      behaviour = { ...behaviour, ...patch }
      reply(res, 200, behaviour)
      return
    }
    if (path === '/admin/state' && req.method === 'GET') {
      reply(res, 200, { behaviour, ...data })
      return
    }
    if (path === '/admin/received' && req.method === 'GET') {
      reply(res, 200, received)
      return
    }
    if (path === '/admin/records' && req.method === 'POST') {
      const record = JSON.parse((await readBody(req)).toString('utf8')) as Omit<
        CrmRecord,
        'contacts'
      >
      putRecord(record)
      reply(res, 200, { ok: true })
      return
    }
    reply(res, 404, { error: 'not found' })
  }

  const putRecord = (record: Omit<CrmRecord, 'contacts'>): void => {
    const existing = data.records.findIndex((r) => r.id === record.id)
    const next: CrmRecord = { ...record, values: { ...record.values }, contacts: [] }
    if (existing >= 0) data.records[existing] = next
    else data.records.push(next)
    save()
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path.startsWith('/admin/')) return admin(req, res, path)
    if (behaviour.down) {
      req.socket.destroy()
      return
    }
    const raw = await readBody(req)
    const key =
      typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null
    const signatureOk = verify(
      raw,
      req.headers['x-cardfile-signature'] as string | undefined,
      secret,
    )
    let body: unknown = null
    try {
      body = JSON.parse(raw.toString('utf8'))
    } catch {
      body = null
    }
    const timestamp =
      typeof req.headers['x-cardfile-timestamp'] === 'string'
        ? req.headers['x-cardfile-timestamp']
        : null
    received.push({ path, key, timestamp, signatureOk, body, at: Date.now() })
    if (behaviour.delayMs > 0) await new Promise((r) => setTimeout(r, behaviour.delayMs))
    if (res.destroyed) return
    if (!signatureOk) return reply(res, 401, { error: 'bad signature' })
    if (req.method !== 'POST' || typeof body !== 'object' || body === null) {
      return reply(res, 400, { error: 'send a JSON object with POST' })
    }
    if (key === null) return reply(res, 400, { error: 'missing idempotency-key' })
    if (behaviour.failStatus !== null)
      return reply(res, behaviour.failStatus, { error: 'told to fail' })
    if (!['/cardfile/lookup', '/cardfile/write-back', '/cardfile/notification'].includes(path)) {
      return reply(res, 404, { error: 'not found' })
    }
    const [status, answer] = contract(path, body as Record<string, unknown>, key)
    reply(res, status, answer)
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, { error: String(error) })
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`

  return {
    port,
    url,
    baseUrl: `${url}/cardfile`,
    lookupUrl: `${url}/cardfile/lookup`,
    writeBackUrl: `${url}/cardfile/write-back`,
    notificationUrl: `${url}/cardfile/notification`,
    setBehaviour(patch) {
      behaviour = { ...behaviour, ...patch }
      return behaviour
    },
    behaviour: () => behaviour,
    setSecret(next) {
      secret = next
    },
    putRecord,
    records: () => data.records,
    writeBacks: () => data.writeBacks,
    notifications: () => data.notifications,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
