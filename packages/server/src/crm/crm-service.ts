import { randomUUID } from 'node:crypto'
import {
  CardfileError,
  ErrorCodes,
  SchemaDoc,
  capabilities,
  contactDocName,
  schemaDocName,
  validateValue,
} from '@cardfile/core'
import type { Actor, AttributeDefinition, ChannelId, SchemaView } from '@cardfile/core'
import { createLocalCoordination } from '../coordination/coordination'
import type { Coordination } from '../coordination/coordination'
import type { DocumentHost } from '../document-host'
import type { EventConsumer } from '../events/event-consumers'
import type { Job, JobStore, NewJob } from '../jobs/job-store'
import type { JobHandler } from '../jobs/job-runner'
import { createServerMetrics } from '../metrics'
import type { ServerMetrics } from '../metrics'
import type { ServerLogger } from '../sync/logger'
import { CrmCallError } from './adapter'
import type { CrmAdapter } from './adapter'
import { lookupResponseSchema } from './contract'
import type { ChangedBy, LookupRequest, LookupTrigger } from './contract'
import { crmConsumer } from './crm-consumer'
import type { QueuedDelivery } from './crm-consumer'
import type {
  CrmConfig,
  CrmDelivery,
  CrmLookupRecord,
  CrmStorage,
  DeliveryState,
} from './crm-storage'
import { fieldOf, fromCrmValue, lookupValues, standardValues } from './crm-values'
import {
  CRM_DELIVERY,
  DEFAULT_RETRY,
  JOB_STATES,
  crmDeliveryHandler,
  deliveryLane,
  deliveryOf,
} from './delivery-job'
import type { DeliveryCounters, DeliveryInput, RetryPolicy } from './delivery-job'
import { httpCrmAdapter, newCallKey } from './http-adapter'
import { checkOutboundTarget, checkResolvedTarget, isTrustedTarget } from '../http/outbound-target'
import { SECRET_PATTERN, generateSecret, secretHint } from './signing'

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
  /** Retries of queued deliveries (jobs); anything left out takes its default. */
  readonly retry?: Partial<RetryPolicy>
  /** Jitter source, for tests. Default Math.random. */
  readonly random?: () => number
  /**
   * Lets CRM URLs point at loopback, private (10/8, 172.16/12, 192.168/16), link-local
   * (169.254/16, cloud metadata) and unique-local addresses: the server's
   * `allowPrivateOutboundTargets` sets it. Default false: such URLs are refused
   * `forbidden-target` when configured, and a call whose host resolves to one fails unsent
   * (a delivery goes to the dead letter with the reason).
   */
  readonly allowPrivateTargets?: boolean
  /**
   * Base URLs the operator connected (`serve --demo --crm-url`): CRM URLs under them are neither
   * screened nor guarded, as the operator chose them, not an admin.
   */
  readonly trustedUrls?: readonly string[]
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

/**
 * What a test of the connection found (`POST /api/<ws>/crm/test`): `ok` when the lookup URL
 * verified the signed test request and answered a well-formed lookup answer.
 */
export interface CrmConnectionTest {
  readonly ok: boolean
  /**
   * `ok`; `not-configured`: no lookup URL is set; `unreachable`: no answer (a private target refused unsent, timeout, refused
   * connection); `rejected`: an error status (401 when the CRM's secret is not this one);
   * `malformed`: an answer that is not a lookup answer.
   */
  readonly outcome: 'ok' | 'not-configured' | 'unreachable' | 'rejected' | 'malformed'
  /** The CRM's HTTP status when it answered one that is not 2xx, else null. */
  readonly status: number | null
  /** What went wrong, for the admin; null when ok. */
  readonly reason: string | null
  /** When the test ran, in ms since epoch. */
  readonly at: number
  /** How long the CRM took to answer, in ms. */
  readonly durationMs: number
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
  /** Deliveries of a workspace (jobs of kind `crm-delivery`), newest first. */
  deliveries(
    workspace: string,
    query: { readonly state?: DeliveryState; readonly limit: number },
  ): Promise<CrmDelivery[]>
  /**
   * Sends the lookup URL a signed test lookup (trigger `connection-test`, no real contact, on
   * or off) and checks the answer's shape; nothing is applied or recorded.
   */
  testConnection(workspace: string): Promise<CrmConnectionTest>
  /** Sends a dead delivery again (same idempotency key); false when it is not dead. */
  retry(workspace: string, deliveryId: string): Promise<boolean>
  status(workspace: string, contactId: string): Promise<CrmContactStatus>
  metrics(workspace: string): Promise<CrmMetrics>
  /** Drops everything queued or held about an erased contact (a `ContactErasureHook`). */
  onContactErased(event: { readonly workspace: string; readonly contactId: string }): Promise<void>
}

/** Counters of the CRM integration. */
export interface CrmMetrics {
  readonly lookups: Readonly<Record<CrmLookupRecord['outcome'], number>>
  readonly deliveries: Readonly<Record<DeliveryState, number>>
  /** This process's delivery attempts since it started. */
  readonly outbox: Readonly<DeliveryCounters>
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

/**
 * Refuses a CRM URL an admin gives that points at the server's own network (see
 * `CrmOptions.allowPrivateTargets`): an IP literal in a private range, a `localhost` name, or a
 * name that resolves to a private address now (every call checks again).
 */
async function screenUrl(
  name: string,
  url: string | null | undefined,
  options: Pick<CrmOptions, 'allowPrivateTargets' | 'trustedUrls'>,
): Promise<void> {
  if (url === undefined || url === null || options.allowPrivateTargets === true) return
  const what = `The CRM ${name}`
  // Scheme and credentials first; the operator's own CRM may then be private.
  const parsed = checkOutboundTarget(url, true, what, name)
  if (isTrustedTarget(parsed, options.trustedUrls ?? [])) return
  await checkResolvedTarget(checkOutboundTarget(url, false, what, name), false, what, name)
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

/** The running CRM integration: the service, and what the server runs for it. */
export interface CrmParts {
  readonly service: CrmService
  /** Reacts to contact and conversation changes (named `crm`). */
  readonly consumer: EventConsumer
  /** Sends write-backs and notifications (jobs of kind `crm-delivery`). */
  readonly deliveries: JobHandler
  /** Waits for the lookups and erasures this process started. */
  stop(): Promise<void>
}

/**
 * Starts the CRM integration: its event consumer turns new conversations, new values of lookup
 * attributes, agents' edits of CRM-managed attributes and status changes into lookups, pending
 * write-backs and delivery jobs, which its job handler sends. Nothing it relies on lives in
 * this process: the event cursor, the pending write-backs and the jobs are in storage, so
 * another process on the same storage carries on where this one stopped.
 *
 * @example
 * const crm = createCrmService({ host, storage: storage.crm!, jobs: storage.jobs, enqueue, logger })
 */
export function createCrmService(deps: {
  readonly host: DocumentHost
  readonly storage: CrmStorage
  /** The jobs table, read for listings, counts, retries and erasure. */
  readonly jobs: JobStore
  /** Enqueues a job (once per kind and key) and wakes the job runner. */
  readonly enqueue: (job: NewJob) => Promise<Job>
  readonly logger: ServerLogger
  /** The server's registry (`GET /metrics`); lookups and deliveries are counted there. */
  readonly metrics?: Pick<ServerMetrics, 'crmDeliveries' | 'crmLookups' | 'crmDeliveryLatency'>
  readonly options?: CrmOptions
  /** Where the per-contact order and the configuration cache live (default: this process). */
  readonly coordination?: Coordination
}): CrmParts {
  const { host, storage, jobs, logger } = deps
  const metrics = deps.metrics ?? createServerMetrics()
  const options = deps.options ?? {}
  const adapter =
    options.adapter ??
    httpCrmAdapter({
      allowPrivateTargets: options.allowPrivateTargets ?? false,
      trustedUrls: options.trustedUrls ?? [],
    })
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
  const counters: DeliveryCounters = { attempts: 0, delivered: 0, retried: 0, dead: 0 }
  // Work this process started, so that stop() lets it finish before storage closes; nothing
  // in it is needed by a later process.
  const running = new Set<Promise<unknown>>()

  const configOf = (workspace: string): Promise<CrmConfig | null> =>
    configs.get(workspace, () => storage.getConfig(workspace))

  /** Work per contact runs in order: pending edits, write-backs and lookups never interleave. */
  const serial = <T>(workspace: string, contactId: string, work: () => Promise<T>): Promise<T> => {
    const next = coordination.locks.run(`crm\u0000${workspace}\u0000${contactId}`, work)
    const settled = next.then(
      () => undefined,
      () => undefined,
    )
    running.add(settled)
    void settled.finally(() => running.delete(settled))
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

  const queue = async (delivery: QueuedDelivery): Promise<Job> => {
    const { workspace, contactId, kind } = delivery
    // A replayed event takes a sequence number it does not use: numbers still increase.
    const sequence = await storage.nextSequence(workspace, contactId)
    const id = randomUUID()
    const input: DeliveryInput = {
      contactId,
      kind,
      body: JSON.stringify(delivery.body(sequence)),
      attributeIds: delivery.attributeIds,
    }
    const job = await deps.enqueue({
      id,
      kind: CRM_DELIVERY,
      workspace,
      key: delivery.key,
      lane: deliveryLane(workspace, contactId),
      input,
    })
    if (job.id === id) metrics.crmDeliveries.inc(1, { event: 'queued' })
    return job
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
      standard: standardValues(doc, view),
    }))
    const request: LookupRequest = {
      type: 'lookup',
      workspace,
      trigger,
      contact: { id: contactId, channel: contact.channel, standard: contact.standard },
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
    serial(workspace, contactId, () => runLookup(workspace, contactId, trigger, conversationId))

  const saveConfig = async (config: CrmConfig): Promise<void> => {
    await storage.putConfig(config)
    configs.set(config.workspace, config)
  }

  const service: CrmService = {
    adapter,
    lookup(workspace, contactId, trigger, conversationId = null) {
      return lookup(workspace, contactId, trigger, conversationId)
    },

    async getConfig(workspace) {
      return viewOf(await configOf(workspace))
    },

    async updateConfig(workspace, patch) {
      checkUrl('lookupUrl', patch.lookupUrl)
      checkUrl('writeBackUrl', patch.writeBackUrl)
      checkUrl('notificationUrl', patch.notificationUrl)
      await screenUrl('lookupUrl', patch.lookupUrl, options)
      await screenUrl('writeBackUrl', patch.writeBackUrl, options)
      await screenUrl('notificationUrl', patch.notificationUrl, options)
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

    async deliveries(workspace, query) {
      const states =
        query.state === undefined ? Object.values(JOB_STATES).flat() : JOB_STATES[query.state]
      const found = await jobs.list({ workspace, kind: CRM_DELIVERY, states }, query.limit)
      return found.flatMap((job): CrmDelivery[] => {
        const delivery = deliveryOf(job)
        return delivery === null ? [] : [delivery]
      })
    },

    async testConnection(workspace) {
      const at = Date.now()
      const result = (
        outcome: CrmConnectionTest['outcome'],
        reason: string | null,
        status: number | null = null,
      ): CrmConnectionTest => ({
        ok: outcome === 'ok',
        outcome,
        status,
        reason,
        at,
        durationMs: Date.now() - at,
      })
      const config = await configOf(workspace)
      if (config === null || (adapter.requiresUrls && config.lookupUrl === null)) {
        return result('not-configured', 'no lookup URL is set')
      }
      const request: LookupRequest = {
        type: 'lookup',
        workspace,
        trigger: 'connection-test',
        contact: { id: 'connection-test', channel: null, standard: {} },
        lookup: {},
        conversationId: null,
      }
      let answer: unknown
      try {
        answer = await adapter.lookup({ config, idempotencyKey: newCallKey(), timeoutMs }, request)
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        if (!(error instanceof CrmCallError)) return result('unreachable', reason)
        if (
          error.failure === 'timeout' ||
          error.failure === 'network' ||
          error.failure === 'forbidden-target'
        ) {
          return result('unreachable', reason)
        }
        if (error.failure === 'status') return result('rejected', reason, error.status ?? null)
        return result('malformed', reason)
      }
      const parsed = lookupResponseSchema.safeParse(answer)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        const where =
          issue === undefined ? '' : ` (${issue.path.join('.') || 'body'}: ${issue.message})`
        return result('malformed', `malformed lookup answer${where}`)
      }
      return result('ok', null)
    },

    async retry(workspace, deliveryId) {
      const job = await jobs.get(deliveryId)
      if (job?.workspace !== workspace || job.kind !== CRM_DELIVERY) return false
      // The runner takes it at its next look (same id, so the same idempotency key).
      return jobs.retry(deliveryId)
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
      const counts = await jobs.count({ workspace, kind: CRM_DELIVERY })
      return {
        lookups: { ...lookupCounts },
        deliveries: {
          pending: counts.queued + counts.running,
          delivered: counts.done,
          dead: counts.failed,
        },
        outbox: { ...counters },
      }
    },

    async onContactErased({ workspace, contactId }) {
      await serial(workspace, contactId, async () => {
        await jobs.remove({
          workspace,
          kind: CRM_DELIVERY,
          lane: deliveryLane(workspace, contactId),
        })
        await storage.forgetContact(workspace, contactId)
      })
    },
  }

  return {
    service,
    consumer: crmConsumer(
      {
        host,
        storage,
        adapter,
        active,
        lookup,
        serial,
        writePendingFlag,
        queue,
      },
      CRM_ACTOR.userId,
    ),
    deliveries: crmDeliveryHandler({
      adapter,
      configOf,
      timeoutMs,
      retry,
      random: options.random ?? Math.random,
      counters,
      logger,
      metrics,
    }),
    async stop() {
      while (running.size > 0) await Promise.all([...running])
    },
  }
}
