import { CardfileError } from '@cardfile/core'
import type { ContactField, CrmLookupOutcome } from '@cardfile/react'
import { useCrmStatus } from '@cardfile/react'
import { ago, clockTime } from '../format'
import { humanMessage } from '../human-message'

/**
 * Whether the CRM knows this contact, when it was last looked up and which CRM-managed values
 * wait to be written back (they go out when the conversation's status next changes). Hidden on
 * a plan without the CRM integration, while the workspace has no CRM configured or it is
 * switched off, and until the server has said which (for agents as for admins). "Look up in CRM"
 * asks the CRM now and says what it answered.
 */
export function CrmStatusLine({
  contactId,
  fields,
}: {
  contactId: string
  fields: readonly ContactField[]
}) {
  const { enabled, validated, lastLookupAt, pendingWriteBacks, lookup, lookingUp, lookupResult } =
    useCrmStatus(contactId)
  // A look-up refused because the CRM was switched off meanwhile turns `enabled` off too.
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
      <button
        type="button"
        className="button small ghost crm-lookup"
        disabled={lookingUp}
        // A refusal rejects and is shown from lookupResult below.
        onClick={() => void lookup().catch(() => undefined)}
        data-testid="crm-lookup"
      >
        {lookingUp ? 'Looking up…' : 'Look up in CRM'}
      </button>
      {lookupResult !== null && (
        <span
          className={`crm-lookup-result${lookupResult instanceof CardfileError ? ' error' : ''}`}
          role="status"
          data-testid="crm-lookup-result"
          data-outcome={
            lookupResult instanceof CardfileError ? lookupResult.code : lookupResult.outcome
          }
        >
          {describe(lookupResult)}
        </span>
      )}
    </div>
  )
}

/** One line on what a look-up by hand did. */
function describe(result: CrmLookupOutcome | CardfileError): string {
  if (result instanceof CardfileError) return `Look-up refused: ${humanMessage(result)}`
  switch (result.outcome) {
    case 'found':
      return result.applied.length > 0
        ? `Found: ${result.applied.length} value${result.applied.length === 1 ? '' : 's'} updated`
        : 'Found in the CRM'
    case 'not-found':
      return 'Not in the CRM'
    case 'refused':
      return `The CRM's answer was refused${result.reason === null ? '' : `: ${result.reason}`}`
    case 'failed':
      return `The CRM could not be reached${result.reason === null ? '' : `: ${result.reason}`}`
  }
}
