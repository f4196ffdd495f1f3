import { randomUUID } from 'node:crypto'
import {
  CardfileError,
  ErrorCodes,
  SchemaDoc,
  capabilities,
  contactDocName,
  parseDocName,
  schemaDocName,
  validateValue,
} from '@cardfile/core'
import type {
  Actor,
  AttributeDefinition,
  ChannelId,
  ConversationStatus,
  Role,
  SchemaView,
} from '@cardfile/core'
import type * as Y from 'yjs'
import { createLocalCoordination } from '../coordination/coordination'
import type { Coordination } from '../coordination/coordination'
import type { DocumentHost } from '../document-host'
import { createServerMetrics } from '../metrics'
import type { ServerMetrics } from '../metrics'
import type { CommitEvent } from '../sync/live-document'
import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import { CrmCallError } from './adapter'
import type { CrmAdapter } from './adapter'
import { lookupResponseSchema } from './contract'
import type {
  AliasValues,
  ChangedBy,
  DeliveryBody,
  LookupRequest,
  LookupTrigger,
  NotificationRequest,
  WriteBackRequest,
} from './contract'
import type {
  CrmConfig,
  CrmDelivery,
  CrmLookupRecord,
  CrmStorage,
  DeliveryState,
} from './crm-storage'
import { httpCrmAdapter, newCallKey } from './http-adapter'
import { DEFAULT_RETRY, DeliveryPaused, startOutbox } from './outbox'
import type { Outbox, OutboxCounters, RetryPolicy } from './outbox'
import { SECRET_PATTERN, generateSecret, secretHint } from './signing'
import { writtenKeys } from './written-keys'

/** The server's own CRM actor: writes lookups' results (provenance `crm`) and status flags. */
export const CRM_ACTOR: Actor = { userId: 'cardfile-crm', role: 'system', name: 'CRM integration' }
/** Provenance of values a lookup returned. */
const CRM_PROVENANCE_USER = 'crm'

/** Options of the CRM integration (`createCardfileServer({ crm })`). */
export interface CrmOptions {
  /** Replaces HTTP with an app's own client; default {@link httpCrmAdapter}. */
  readonly adapter?: CrmAdapter
  /** Timeout of one CRM call, in ms. Default 5000. */
  readonly timeoutMs?: number
  /** Retries of queued deliveries; anything left out takes its default. */
  readonly retry?: Partial<RetryPolicy>
  /** Jitter source, for tests. Default Math.random. */
  readonly random?: () => number
}

/** What admins read of a workspace's CRM connection: the secret only as its last 4 characters. */
export interface CrmConfigView {
  readonly configured: boolean
  readonly enabled: boolean
  readonly lookupUrl: string | null
  readonly writeBackUrl: string | null
  readonly notificationUrl: string | null
  readonly secretHint: string | null
  readonly updatedAt: number | null
}

/** A change of the connection by an admin. */
export interface CrmConfigPatch {
  readonly enabled?: boolean
  readonly lookupUrl?: string | null
  readonly writeBackUrl?: string | null
  readonly notificationUrl?: string | null
}

/** What a lookup did. */
export interface LookupOutcome extends CrmLookupRecord {
  /** Aliases whose values were written to the contact. */
  readonly applied: readonly string[]
}

/** A contact's CRM status for agents. */
export interface CrmContactStatus {
  readonly lastLookup: CrmLookupRecord | null
  readonly pending: readonly { readonly attributeId: string; readonly by: ChangedBy }[]
  /**
   * Whether the workspace's connection is configured (by an admin) and switched on (never while
   * not configured): all that agents may know of it, no URLs and no secret, so an app can hide
   * a look-up that could only be refused.
   */
  readonly connection: { readonly configured: boolean; readonly enabled: boolean }
}

/** The CRM integration running inside a server. */
export interface CrmService {
  readonly adapter: CrmAdapter
  /** Feed of every document commit (the server wires it to `onCommit`). */
  onCommit(event: CommitEvent): void
  /** Looks a contact up now and applies the answer. */
  lookup(
    workspace: string,
    contactId: string,
    trigger: LookupTrigger,
    conversationId?: string | null,
  ): Promise<LookupOutcome>
  getConfig(workspace: string): Promise<CrmConfigView>
  /** Changes the connection; a first configuration generates a secret, returned this once. */
  updateConfig(
    workspace: string,
    patch: CrmConfigPatch,
  ): Promise<{ readonly config: CrmConfigView; readonly secret?: string }>
  /** Sets a given secret, or generates one (returned this once). */
  rotateSecret(
    workspace: string,
    secret?: string,
  ): Promise<{ readonly config: CrmConfigView; readonly secret?: string }>
  deliveries(
    workspace: string,
    query: { readonly state?: DeliveryState; readonly limit: number },
  ): Promise<CrmDelivery[]>
  /** Sends a dead delivery again (same idempotency key); false when it is not dead. */
  retry(workspace: string, deliveryId: string): Promise<boolean>
  status(workspace: string, contactId: string): Promise<CrmContactStatus>
  metrics(workspace: string): Promise<CrmMetrics>
  /** Drops everything queued or held about an erased contact (a `ContactErasureHook`). */
  onContactErased(event: { readonly workspace: string; readonly contactId: string }): Promise<void>
  /** Resolves when every commit seen so far has been handled (tests, shutdown). */
  idle(): Promise<void>
  close(): Promise<void>
}

/** Counters of the CRM integration. */
export interface CrmMetrics {
  readonly lookups: Readonly<Record<CrmLookupRecord['outcome'], number>>
  readonly deliveries: Readonly<Record<DeliveryState, number>>
  /** Process-wide outbox counters since start. */
  readonly outbox: Readonly<OutboxCounters>
}

const HTTP_URL = /^https?:\/\//i

const checkUrl = (name: string, url: string | null | undefined): void => {
  if (url === undefined || url === null) return
  let ok = false
  try {
    ok = HTTP_URL.test(url) && new URL(url).host !== ''
  } catch {
    ok = false
  }
  if (!ok) throw new CardfileError(ErrorCodes.InvalidValue, `${name} must be an http(s) URL`, name)
}

const viewOf = (config: CrmConfig | null): CrmConfigView =>
  config === null
    ? {
        configured: false,
        enabled: false,
        lookupUrl: null,
        writeBackUrl: null,
        notificationUrl: null,
        secretHint: null,
        updatedAt: null,
      }
    : {
        configured: true,
        enabled: config.enabled,
        lookupUrl: config.lookupUrl,
        writeBackUrl: config.writeBackUrl,
        notificationUrl: config.notificationUrl,
        secretHint: secretHint(config.secret),
        updatedAt: config.updatedAt,
      }

interface FieldLike {
  readonly value: string | null
  readonly by: { readonly role: Role; readonly userId: string; readonly at: number }
}

const fieldOf = (raw: unknown): FieldLike | null => {
  if (typeof raw !== 'object' || raw === null) return null
  const { value, by } = raw as { value?: unknown; by?: unknown }
  if (typeof by !== 'object' || by === null) return null
  if (typeof value !== 'string' && value !== null) return null
  return raw as FieldLike
}

/** A stored value as the CRM reads it: text, or a dropdown option's label. */
const toCrmValue = (def: AttributeDefinition, value: string | null): string | null => {
  if (value === null || def.type === 'text') return value
  return def.options.find((o) => o.id === value)?.label ?? value
}

/** A CRM value as stored: text, or the id of the dropdown option it names (by label or id). */
const fromCrmValue = (def: AttributeDefinition, value: string | null): string | null => {
  if (value === null || def.type === 'text') return value
  const wanted = value.trim().toLowerCase()
  return (
    def.options.find((o) => o.id === value)?.id ??
    def.options.find((o) => o.label.trim().toLowerCase() === wanted)?.id ??
    value
  )
}

/** The workspace's definitions and settings, read through the host. */
export const readSchemaView = (host: DocumentHost, workspace: string): Promise<SchemaView> =>
  host.read(schemaDocName(workspace), (doc) => {
    const schema = new SchemaDoc(doc)
    try {
      return schema.view()
    } finally {
      schema.destroy()
    }
  })

/** The lookup attributes of a contact that have a value, by alias. */
function lookupValues(doc: Y.Doc, view: SchemaView): Record<string, string> {
  const out: Record<string, string> = {}
  for (const def of view.definitions.values()) {
    if (!def.lookup || def.retired) continue
    const map = doc.getMap(def.kind === 'platform' ? 'platform' : 'custom')
    const field = fieldOf(map.get(def.id))
    const value = field === null ? null : toCrmValue(def, field.value)
    if (value !== null && value !== '') out[def.alias] = value
  }
  return out
}

/**
 * Starts the CRM integration: watches commits for new conversations, new values of lookup
 * attributes, agents' edits of CRM-managed attributes and status changes; runs lookups; queues
 * write-backs and notifications in the durable outbox.
 *
 * @example
 * const crm = createCrmService({ host: server.host, storage: storage.crm!, logger, metrics })
 */
export function createCrmService(deps: {
  readonly host: DocumentHost
  readonly storage: CrmStorage
  readonly logger: ServerLogger
  /** The server's registry (`GET /metrics`); lookups and deliveries are counted there. */
  readonly metrics?: Pick<ServerMetrics, 'crmDeliveries' | 'crmLookups' | 'crmDeliveryLatency'>
  readonly options?: CrmOptions
  /** Where the per-contact order and the configuration cache live (default: this process). */
  readonly coordination?: Coordination
}): CrmService {
  const { host, storage, logger } = deps
  const metrics = deps.metrics ?? createServerMetrics()
  const options = deps.options ?? {}
  const adapter = options.adapter ?? httpCrmAdapter()
  const timeoutMs = options.timeoutMs ?? 5000
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry }
  const coordination = deps.coordination ?? createLocalCoordination()
  const configs = coordination.cache<CrmConfig | null>('crm-config')
  const lookupCounts: Record<CrmLookupRecord['outcome'], number> = {
    found: 0,
    'not-found': 0,
    refused: 0,
    failed: 0,
  }
  /** Last status seen per conversation, for the `from` of a status change. */
  const statuses = new Map<string, ConversationStatus>()
  const inFlight = new Set<Promise<unknown>>()
  let closed = false

  const configOf = (workspace: string): Promise<CrmConfig | null> =>
    configs.get(workspace, () => storage.getConfig(workspace))

  /** Work per contact runs in order: pending edits, write-backs and lookups never interleave. */
  const serial = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const next = coordination.locks.run(`crm\u0000${key}`, work)
    // Tracked so that idle() and close() wait for it.
    const settled = next.then(
      () => undefined,
      () => undefined,
    )
    inFlight.add(settled)
    void settled.finally(() => inFlight.delete(settled))
    return next
  }

  const active = async (
    workspace: string,
  ): Promise<{ config: CrmConfig; view: SchemaView } | null> => {
    const config = await configOf(workspace)
    if (config === null || !config.enabled) return null
    const view = await readSchemaView(host, workspace)
    return capabilities(view.settings.plan).crm ? { config, view } : null
  }

  const send = async (delivery: CrmDelivery): Promise<void> => {
    const config = await configOf(delivery.workspace)
    if (config === null || !config.enabled) throw new DeliveryPaused(60_000)
    const body = JSON.parse(delivery.body) as DeliveryBody
    await adapter.deliver({ config, idempotencyKey: delivery.id, timeoutMs }, body, delivery.body)
  }

  const outbox: Outbox = startOutbox({
    storage,
    send,
    retry,
    logger,
    metrics,
    ...(options.random === undefined ? {} : { random: options.random }),
  })

  const enqueue = async (
    workspace: string,
    contactId: string,
    body: (sequence: number) => DeliveryBody,
    clear?: readonly string[],
  ): Promise<void> => {
    const sequence = await storage.nextSequence(workspace, contactId)
    await storage.enqueue(
      {
        id: randomUUID(),
        workspace,
        contactId,
        kind: body(sequence).type,
        body: JSON.stringify(body(sequence)),
        createdAt: Date.now(),
      },
      clear === undefined ? undefined : { contactId, attributeIds: clear },
    )
    metrics.crmDeliveries.inc(1, { event: 'queued' })
    outbox.poke()
  }

  const writePendingFlag = async (workspace: string, contactId: string): Promise<void> => {
    const pending = (await storage.listPending(workspace, contactId)).map((p) => p.attributeId)
    await host.transact(contactDocName(workspace, contactId), CRM_ACTOR, (doc) => {
      const flags = doc.getMap('flags')
      const current = flags.get('crmPending')
      if (JSON.stringify(current ?? []) !== JSON.stringify(pending))
        flags.set('crmPending', pending)
    })
  }

  /**
   * Stores the outcome (its reason is for admins, in storage, erased with the contact) and logs
   * only `why`, a fixed word: a reason may quote a value the CRM sent or echoed, and logs must
   * never hold a contact's values (they outlive an erasure).
   */
  const record = async (outcome: LookupOutcome, why?: string): Promise<LookupOutcome> => {
    lookupCounts[outcome.outcome] += 1
    metrics.crmLookups.inc(1, { outcome: outcome.outcome })
    const { applied: _applied, ...stored } = outcome
    await storage.putLookup(stored)
    if (outcome.reason !== null) {
      logger.warn('CRM lookup did not apply', {
        workspace: outcome.workspace,
        contact: outcome.contactId,
        outcome: outcome.outcome,
        why: why ?? outcome.outcome,
      })
    }
    return outcome
  }

  const runLookup = async (
    workspace: string,
    contactId: string,
    trigger: LookupTrigger,
    conversationId: string | null,
  ): Promise<LookupOutcome> => {
    const at = Date.now()
    const base = { workspace, contactId, at }
    const state = await active(workspace)
    if (state === null) {
      throw new CardfileError(
        ErrorCodes.PlanLacksFeature,
        'the CRM connection is off (or the plan has no CRM integration)',
      )
    }
    const { config, view } = state
    const docName = contactDocName(workspace, contactId)
    const contact = await host.read(docName, (doc) => ({
      channel: (doc.getMap('profile').get('channel') as ChannelId | undefined) ?? null,
      lookup: lookupValues(doc, view),
    }))
    const request: LookupRequest = {
      type: 'lookup',
      workspace,
      trigger,
      contact: { id: contactId, channel: contact.channel },
      lookup: contact.lookup,
      conversationId,
    }
    let answer: unknown
    try {
      answer = await adapter.lookup({ config, idempotencyKey: newCallKey(), timeoutMs }, request)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      const why = error instanceof CrmCallError ? error.failure : 'call-failed'
      return record({ ...base, outcome: 'failed', reason, applied: [] }, why)
    }
    const parsed = lookupResponseSchema.safeParse(answer)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where =
        issue === undefined ? '' : ` (${issue.path.join('.') || 'body'}: ${issue.message})`
      return record(
        {
          ...base,
          outcome: 'refused',
          reason: `malformed lookup answer${where}`,
          applied: [],
        },
        'malformed-answer',
      )
    }
    // All or nothing: one bad value refuses the whole answer, so a contact never holds half
    // of a CRM record.
    const byAlias = new Map<string, AttributeDefinition>()
    for (const def of view.definitions.values()) {
      if (!def.retired) byAlias.set(def.alias.toLowerCase(), def)
    }
    const values = new Map<string, string | null>()
    for (const [alias, raw] of Object.entries(parsed.data.values ?? {})) {
      const def = byAlias.get(alias.toLowerCase())
      if (def === undefined) {
        return record(
          {
            ...base,
            outcome: 'refused',
            reason: `unknown alias "${alias}"`,
            applied: [],
          },
          'unknown-alias',
        )
      }
      if (def.kind !== 'custom' || !def.crmManaged) {
        return record(
          {
            ...base,
            outcome: 'refused',
            reason: `"${alias}" is not a CRM-managed attribute`,
            applied: [],
          },
          'not-crm-managed',
        )
      }
      const value = fromCrmValue(def, raw)
      const check = validateValue(def, value, 'custom')
      if (!check.ok) {
        return record(
          {
            ...base,
            outcome: 'refused',
            reason: `invalid value for "${alias}": ${check.message}`,
            applied: [],
          },
          'invalid-value',
        )
      }
      values.set(def.id, value)
    }
    // Values an agent changed and the CRM has not received yet stay as the agent left them.
    const pending = new Set(
      (await storage.listPending(workspace, contactId)).map((p) => p.attributeId),
    )
    const applied: string[] = []
    const now = Date.now()
    await host.transact(docName, CRM_ACTOR, (doc) => {
      const custom = doc.getMap('custom')
      for (const [id, value] of values) {
        if (pending.has(id)) continue
        const current = fieldOf(custom.get(id))
        const def = view.definitions.get(id)
        if (def !== undefined) applied.push(def.alias)
        if (current !== null && current.value === value) continue
        custom.set(id, { value, by: { role: 'crm', userId: CRM_PROVENANCE_USER, at: now } })
      }
      const flags = doc.getMap('flags')
      flags.set('crmValidated', parsed.data.found)
      flags.set('crmLookupAt', now)
    })
    return record({
      ...base,
      at: now,
      outcome: parsed.data.found ? 'found' : 'not-found',
      reason: null,
      applied,
    })
  }

  const lookup = (
    workspace: string,
    contactId: string,
    trigger: LookupTrigger,
    conversationId: string | null = null,
  ): Promise<LookupOutcome> =>
    serial(`${workspace}\u0000${contactId}`, () =>
      runLookup(workspace, contactId, trigger, conversationId),
    )

  const onContactCommit = async (
    event: CommitEvent,
    workspace: string,
    contactId: string,
  ): Promise<void> => {
    const state = await active(workspace)
    if (state === null) return
    const { view } = state
    const refused = new Set(event.refusals.map((r) => `${r.map}:${r.key}`))
    const seen = await host.read(event.docName, (doc) => {
      const custom = writtenKeys(doc, event.update, 'custom').filter(
        (k) => !refused.has(`custom:${k}`),
      )
      const platform = writtenKeys(doc, event.update, 'platform')
      const created = writtenKeys(doc, event.update, 'profile').includes('createdAt')
      const lookupChanged = [...custom, ...platform].some((id) => {
        const def = view.definitions.get(id)
        const map = doc.getMap(def?.kind === 'platform' ? 'platform' : 'custom')
        return def?.lookup === true && (fieldOf(map.get(id))?.value ?? null) !== null
      })
      const edits = custom.flatMap((id) => {
        const def = view.definitions.get(id)
        const field = fieldOf(doc.getMap('custom').get(id))
        if (def?.crmManaged !== true || field === null) return []
        if (field.by.role !== 'agent' && field.by.role !== 'admin') return []
        return [{ attributeId: id, by: field.by }]
      })
      return { lookupChanged, edits, created }
    })
    if (seen.edits.length > 0) {
      await serial(`${workspace}\u0000${contactId}`, async () => {
        await storage.putPending(seen.edits.map((e) => ({ workspace, contactId, ...e })))
        await writePendingFlag(workspace, contactId)
      })
    }
    // A new contact is looked up when its conversation starts, right after.
    if (seen.lookupChanged && !seen.created) {
      await lookup(workspace, contactId, 'lookup-attribute-changed')
    }
  }

  const onConversationCommit = async (
    event: CommitEvent,
    workspace: string,
    conversationId: string,
  ): Promise<void> => {
    const seen = await host.read(event.docName, (doc) => {
      const meta = doc.getMap('meta')
      const keys = writtenKeys(doc, event.update, 'meta')
      return {
        started: keys.includes('createdAt'),
        statusChanged: keys.includes('status'),
        contactId: meta.get('contactId') as string | undefined,
        status: meta.get('status') as ConversationStatus | undefined,
      }
    })
    const { contactId, status } = seen
    if (contactId === undefined || status === undefined) return
    const statusKey = `${workspace}\u0000${conversationId}`
    const from = statuses.get(statusKey) ?? null
    statuses.set(statusKey, status)
    if (!seen.started && !seen.statusChanged) return
    const state = await active(workspace)
    if (state === null) return
    const { config, view } = state
    const conversation = {
      id: conversationId,
      status: { from: seen.started ? null : from, to: status },
    }
    if (config.notificationUrl !== null || !adapter.requiresUrls) {
      await serial(`${workspace}\u0000${contactId}`, () =>
        enqueue(workspace, contactId, (sequence): NotificationRequest => ({
          type: 'notification',
          workspace,
          sequence,
          event: seen.started ? 'conversation-started' : 'conversation-status-changed',
          contact: { id: contactId },
          conversation,
          at: Date.now(),
        })),
      )
    }
    if (seen.started) {
      await lookup(workspace, contactId, 'conversation-started', conversationId)
      return
    }
    if (config.writeBackUrl === null && adapter.requiresUrls) return
    await serial(`${workspace}\u0000${contactId}`, async () => {
      const pending = await storage.listPending(workspace, contactId)
      if (pending.length === 0) return
      const docName = contactDocName(workspace, contactId)
      const body = await host.read(docName, (doc) => {
        const values: Record<string, string | null> = {}
        const changedBy: Record<string, ChangedBy> = {}
        for (const p of pending) {
          const def = view.definitions.get(p.attributeId)
          if (def === undefined) continue
          const field = fieldOf(doc.getMap('custom').get(p.attributeId))
          values[def.alias] = toCrmValue(def, field?.value ?? null)
          changedBy[def.alias] = p.by
        }
        return { values, changedBy, lookup: lookupValues(doc, view) as AliasValues }
      })
      await enqueue(
        workspace,
        contactId,
        (sequence): WriteBackRequest => ({
          type: 'write-back',
          workspace,
          sequence,
          contact: { id: contactId, lookup: body.lookup },
          values: body.values,
          changedBy: body.changedBy,
          conversation,
        }),
        pending.map((p) => p.attributeId),
      )
      await writePendingFlag(workspace, contactId)
    })
  }

  const handle = async (event: CommitEvent): Promise<void> => {
    // The integration's own writes (lookup results, status flags) start nothing.
    if (event.actor?.userId === CRM_ACTOR.userId && event.actor.role === 'system') return
    const name = parseDocName(event.docName)
    if (name === null || name.kind === 'schema') return
    const config = await configOf(name.workspace)
    if (config === null || !config.enabled) return
    if (name.kind === 'contact') await onContactCommit(event, name.workspace, name.id)
    else await onConversationCommit(event, name.workspace, name.id)
  }

  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work)
    void work.finally(() => inFlight.delete(work)).catch(() => undefined)
    return work
  }

  const saveConfig = async (config: CrmConfig): Promise<void> => {
    await storage.putConfig(config)
    configs.set(config.workspace, config)
    outbox.poke()
  }

  return {
    adapter,
    onCommit(event) {
      if (closed) return
      track(handle(event)).catch((error: unknown) => {
        if (error instanceof CardfileError && error.code === ErrorCodes.Deleted) return
        logger.error('CRM integration failed on a commit', {
          doc: event.docName,
          ...errorContext(error),
        })
      })
    },

    lookup(workspace, contactId, trigger, conversationId = null) {
      return track(lookup(workspace, contactId, trigger, conversationId))
    },

    async getConfig(workspace) {
      return viewOf(await configOf(workspace))
    },

    async updateConfig(workspace, patch) {
      checkUrl('lookupUrl', patch.lookupUrl)
      checkUrl('writeBackUrl', patch.writeBackUrl)
      checkUrl('notificationUrl', patch.notificationUrl)
      const current = await configOf(workspace)
      const generated = current === null ? generateSecret() : undefined
      const next: CrmConfig = {
        workspace,
        enabled: patch.enabled ?? current?.enabled ?? false,
        lookupUrl: patch.lookupUrl === undefined ? (current?.lookupUrl ?? null) : patch.lookupUrl,
        writeBackUrl:
          patch.writeBackUrl === undefined ? (current?.writeBackUrl ?? null) : patch.writeBackUrl,
        notificationUrl:
          patch.notificationUrl === undefined
            ? (current?.notificationUrl ?? null)
            : patch.notificationUrl,
        secret: current?.secret ?? generated!,
        updatedAt: Date.now(),
      }
      if (next.enabled && adapter.requiresUrls && next.lookupUrl === null) {
        throw new CardfileError(
          ErrorCodes.InvalidValue,
          'set a lookup URL before enabling',
          'lookupUrl',
        )
      }
      await saveConfig(next)
      return generated === undefined
        ? { config: viewOf(next) }
        : { config: viewOf(next), secret: generated }
    },

    async rotateSecret(workspace, secret) {
      if (secret !== undefined && !SECRET_PATTERN.test(secret)) {
        throw new CardfileError(
          ErrorCodes.InvalidValue,
          'the secret must be hex, 32 to 256 characters',
          'secret',
        )
      }
      const current = await configOf(workspace)
      const value = secret ?? generateSecret()
      const next: CrmConfig = {
        workspace,
        enabled: current?.enabled ?? false,
        lookupUrl: current?.lookupUrl ?? null,
        writeBackUrl: current?.writeBackUrl ?? null,
        notificationUrl: current?.notificationUrl ?? null,
        secret: value,
        updatedAt: Date.now(),
      }
      await saveConfig(next)
      return secret === undefined
        ? { config: viewOf(next), secret: value }
        : { config: viewOf(next) }
    },

    deliveries(workspace, query) {
      return storage.listDeliveries(workspace, query)
    },

    async retry(workspace, deliveryId) {
      const revived = await storage.revive(workspace, deliveryId, Date.now())
      if (revived) outbox.poke()
      return revived
    },

    async status(workspace, contactId) {
      const [lastLookup, pending, config] = await Promise.all([
        storage.getLookup(workspace, contactId),
        storage.listPending(workspace, contactId),
        configOf(workspace),
      ])
      return {
        lastLookup,
        pending: pending.map((p) => ({ attributeId: p.attributeId, by: p.by })),
        // Only the two flags: the URLs and the secret stay with admins (`GET .../crm/config`).
        connection: { configured: config !== null, enabled: config?.enabled ?? false },
      }
    },

    async metrics(workspace) {
      return {
        lookups: { ...lookupCounts },
        deliveries: await storage.countDeliveries(workspace),
        outbox: { ...outbox.counters },
      }
    },

    async onContactErased({ workspace, contactId }) {
      await serial(`${workspace}\u0000${contactId}`, () =>
        storage.forgetContact(workspace, contactId),
      )
    },

    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight])
    },

    async close() {
      closed = true
      await outbox.close()
      await Promise.allSettled([...inFlight])
    },
  }
}
