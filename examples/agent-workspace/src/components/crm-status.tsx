import type { ContactField } from '@cardfile/react'
import { useCrmStatus } from '@cardfile/react'
import { ago, clockTime } from '../format'

/**
 * Whether the CRM knows this contact, when it was last looked up and which CRM-managed values
 * wait to be written back (they go out when the conversation's status next changes). Hidden on
 * a plan without the CRM integration.
 */
export function CrmStatusLine({
  contactId,
  fields,
}: {
  contactId: string
  fields: readonly ContactField[]
}) {
  const { enabled, validated, lastLookupAt, pendingWriteBacks } = useCrmStatus(contactId)
  if (!enabled) return null
  const state = validated === null ? 'unknown' : validated ? 'validated' : 'not-validated'
  const label = validated === null ? 'Not looked up yet' : validated ? 'Validated' : 'Not validated'
  const labelOf = (id: string) => fields.find((f) => f.id === id)?.label ?? id
  return (
    <div className="crm-status" data-testid="crm-status" data-state={state}>
      <span className="tag crm">CRM</span>
      <span className={`crm-state crm-${state}`}>{label}</span>
      {lastLookupAt !== null && (
        <span className="muted" title={clockTime(lastLookupAt)} data-testid="crm-lookup-at">
          · looked up {ago(lastLookupAt)}
        </span>
      )}
      {pendingWriteBacks.length > 0 && (
        <span
          className="crm-pending"
          data-testid="crm-pending"
          title={`Sent to the CRM when the conversation's status next changes: ${pendingWriteBacks
            .map(labelOf)
            .join(', ')}`}
        >
          {pendingWriteBacks.length} change{pendingWriteBacks.length === 1 ? '' : 's'} to write back
        </span>
      )}
    </div>
  )
}
