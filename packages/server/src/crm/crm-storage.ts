import type { Role } from '@cardfile/core'

/** A workspace's CRM connection. `secret` never leaves the server in full. */
export interface CrmConfig {
  readonly workspace: string
  readonly enabled: boolean
  readonly lookupUrl: string | null
  readonly writeBackUrl: string | null
  readonly notificationUrl: string | null
  /** Hex HMAC key shared with the CRM. */
  readonly secret: string
  readonly updatedAt: number
}

export type DeliveryKind = 'write-back' | 'notification'
export type DeliveryState = 'pending' | 'delivered' | 'dead'

/** One queued request to the CRM. Its id is the idempotency key of every attempt. */
export interface CrmDelivery {
  readonly id: string
  readonly workspace: string
  readonly contactId: string
  /** Global order; deliveries of one contact are sent one at a time, lowest first. */
  readonly seq: number
  readonly kind: DeliveryKind
  /** The JSON body, sent byte for byte on every attempt. */
  readonly body: string
  readonly state: DeliveryState
  readonly attempts: number
  readonly nextAttemptAt: number
  readonly lastError: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

/** A new delivery (the store assigns `seq`). */
export type NewDelivery = Pick<CrmDelivery, 'id' | 'workspace' | 'contactId' | 'kind' | 'body'> & {
  readonly createdAt: number
}

/** An agent's edit of a CRM-managed attribute waiting for the next write-back. */
export interface PendingWriteBack {
  readonly workspace: string
  readonly contactId: string
  readonly attributeId: string
  readonly by: { readonly role: Role; readonly userId: string; readonly at: number }
}

/** The outcome of a contact's last lookup, kept for admins and agents. */
export interface CrmLookupRecord {
  readonly workspace: string
  readonly contactId: string
  readonly at: number
  readonly outcome: 'found' | 'not-found' | 'refused' | 'failed'
  /** Why a lookup was refused or failed; null when it succeeded. */
  readonly reason: string | null
}

/**
 * Where the CRM integration keeps its configuration, outbox, pending write-backs and lookup
 * outcomes. An addition to the {@link Storage} contract (`storage.crm`), implemented by the
 * SQLite and memory stores, so that a server restart loses no queued delivery.
 */
export interface CrmStorage {
  getConfig(workspace: string): Promise<CrmConfig | null>
  putConfig(config: CrmConfig): Promise<void>
  /**
   * Queues a delivery and, in the same transaction, removes the pending write-backs it carries
   * (so a crash never sends them twice nor loses them).
   */
  enqueue(
    delivery: NewDelivery,
    clearPending?: { readonly contactId: string; readonly attributeIds: readonly string[] },
  ): Promise<CrmDelivery>
  /** The next delivery of each contact (lowest seq still pending) that is due at `now`. */
  dueHeads(now: number, limit: number): Promise<CrmDelivery[]>
  /** When the earliest pending delivery is due, or null when none is pending. */
  nextDueAt(): Promise<number | null>
  /** Records the attempt that went through (`attempts` counts it) and marks it delivered. */
  markDelivered(id: string, attempts: number, at: number): Promise<void>
  markRetry(id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void>
  markDead(id: string, attempts: number, error: string, at: number): Promise<void>
  /** Moves a dead delivery back to pending, due now; false when it is not dead. */
  revive(workspace: string, id: string, at: number): Promise<boolean>
  getDelivery(workspace: string, id: string): Promise<CrmDelivery | null>
  /** Deliveries of a workspace, newest first. */
  listDeliveries(
    workspace: string,
    query: { readonly state?: DeliveryState; readonly limit: number },
  ): Promise<CrmDelivery[]>
  countDeliveries(workspace: string): Promise<Record<DeliveryState, number>>
  /** The next per-contact sequence number of a delivery body. */
  nextSequence(workspace: string, contactId: string): Promise<number>
  putPending(rows: readonly PendingWriteBack[]): Promise<void>
  listPending(workspace: string, contactId: string): Promise<PendingWriteBack[]>
  putLookup(record: CrmLookupRecord): Promise<void>
  getLookup(workspace: string, contactId: string): Promise<CrmLookupRecord | null>
  /** Drops everything held about an erased contact (queued deliveries included). */
  forgetContact(workspace: string, contactId: string): Promise<void>
}
