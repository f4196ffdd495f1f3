import type { CrmConfig, CrmLookupRecord, PendingWriteBack } from './crm-storage'

/** A row of the `crm_config` table, as both SQL engines return it (`enabled` as 0 or 1). */
export interface ConfigRow {
  workspace: string
  enabled: number
  lookup_url: string | null
  write_back_url: string | null
  notification_url: string | null
  secret: string
  updated_at: number
}

/** A row of the `crm_pending` table, as both SQL engines return it. */
export interface PendingRow {
  workspace: string
  contact_id: string
  attribute_id: string
  by_role: string
  by_user: string
  at: number
}

/** A row of the `crm_lookups` table, as both SQL engines return it. */
export interface LookupRow {
  workspace: string
  contact_id: string
  at: number
  outcome: string
  reason: string | null
}

/** Reads a `crm_config` row as a workspace's CRM configuration. */
export const toCrmConfig = (r: ConfigRow): CrmConfig => ({
  workspace: r.workspace,
  enabled: r.enabled === 1,
  lookupUrl: r.lookup_url,
  writeBackUrl: r.write_back_url,
  notificationUrl: r.notification_url,
  secret: r.secret,
  updatedAt: r.updated_at,
})

/** Reads a `crm_pending` row as a pending write-back. */
export const toPendingWriteBack = (r: PendingRow): PendingWriteBack => ({
  workspace: r.workspace,
  contactId: r.contact_id,
  attributeId: r.attribute_id,
  by: { role: r.by_role as PendingWriteBack['by']['role'], userId: r.by_user, at: r.at },
})

/** Reads a `crm_lookups` row as a lookup outcome. */
export const toLookupRecord = (r: LookupRow): CrmLookupRecord => ({
  workspace: r.workspace,
  contactId: r.contact_id,
  at: r.at,
  outcome: r.outcome as CrmLookupRecord['outcome'],
  reason: r.reason,
})
