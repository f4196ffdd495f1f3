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

/**
 * One write-back or notification as admins read it: a `crm-delivery` job of the jobs table.
 * Its id is the idempotency key of every attempt.
 */
export interface CrmDelivery {
  readonly id: string
  readonly workspace: string
  readonly contactId: string
  /** Order of queuing; deliveries of one contact are sent one at a time, lowest first. */
  readonly seq: number
  readonly kind: DeliveryKind
  /** The JSON body, sent byte for byte on every attempt. */
  readonly body: string
  readonly state: DeliveryState
  /** Attempts that got an answer or failed (a run cut off by a crash is not counted). */
  readonly attempts: number
  readonly nextAttemptAt: number
  readonly lastError: string | null
  readonly createdAt: number
  readonly updatedAt: number
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
 * Where the CRM integration keeps its configuration, pending write-backs, per-contact sequence
 * numbers and lookup outcomes (`storage.crm`, SQLite and memory). Its deliveries are jobs in
 * the jobs table.
 */
export interface CrmStorage {
  getConfig(workspace: string): Promise<CrmConfig | null>
  putConfig(config: CrmConfig): Promise<void>
  /** The next per-contact sequence number of a delivery body. */
  nextSequence(workspace: string, contactId: string): Promise<number>
  /** Stores pending write-backs (a newer edit of the same attribute replaces the older). */
  putPending(rows: readonly PendingWriteBack[]): Promise<void>
  listPending(workspace: string, contactId: string): Promise<PendingWriteBack[]>
  /** Removes the pending write-backs a queued write-back carries. */
  clearPending(workspace: string, contactId: string, attributeIds: readonly string[]): Promise<void>
  putLookup(record: CrmLookupRecord): Promise<void>
  getLookup(workspace: string, contactId: string): Promise<CrmLookupRecord | null>
  /** Drops everything held about an erased contact (its deliveries are jobs, removed apart). */
  forgetContact(workspace: string, contactId: string): Promise<void>
}
