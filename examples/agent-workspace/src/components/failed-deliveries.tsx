import { useState } from 'react'
import { useCrmDeliveries } from '@cardfile/react'
import type { CrmRetryInfo } from '@cardfile/react'
import { adminMessage } from '../admin-messages'
import { ago, clockTime } from '../format'

const KIND_LABEL = { 'write-back': 'Write-back', notification: 'Notification' } as const

const retryLine = (retry: CrmRetryInfo): string =>
  retry.state === 'pending'
    ? 'Sending again…'
    : retry.state === 'delivered'
      ? 'Sent again: the CRM accepted it.'
      : 'Sent again, and the CRM refused it again: it is back in the list.'

/**
 * CRM deliveries (write-backs, notifications) that failed for good, newest first, each with
 * why and a retry, which sends it again with the same idempotency key (the CRM applies it once).
 */
export function FailedDeliveries() {
  const deliveries = useCrmDeliveries()
  const [problem, setProblem] = useState<string | null>(null)
  if (!deliveries.canManage) return null
  const { items, retries } = deliveries

  return (
    <section className="failed-deliveries" data-testid="failed-deliveries">
      <h2>Failed CRM deliveries</h2>
      <p className="muted small">
        Write-backs and notifications the CRM refused, or that still failed after every retry. Fix
        the cause on the CRM&apos;s side, then send them again.
      </p>
      {deliveries.error !== null && (
        <p className="notice error" role="alert">
          {adminMessage(deliveries.error)}
        </p>
      )}
      {problem !== null && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {items.length === 0 ? (
        <p className="muted small" data-testid="no-failed-deliveries">
          No failed deliveries.
        </p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>What</th>
              <th>Contact</th>
              <th>Why it failed</th>
              <th>Attempts</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((delivery) => (
              <tr key={delivery.id} data-testid="failed-delivery" data-delivery-id={delivery.id}>
                <td>
                  {KIND_LABEL[delivery.kind]}
                  <div className="muted small" title={clockTime(delivery.createdAt)}>
                    {ago(delivery.createdAt)}
                  </div>
                </td>
                <td>
                  <code className="small">{delivery.contactId}</code>
                </td>
                <td className="small" data-testid="delivery-error">
                  {delivery.lastError ?? 'Unknown'}
                </td>
                <td>{delivery.attempts}</td>
                <td>
                  <button
                    type="button"
                    className="button small"
                    onClick={() => {
                      setProblem(null)
                      deliveries
                        .retry(delivery.id)
                        .catch((error: unknown) => setProblem(adminMessage(error)))
                    }}
                    data-testid="retry-delivery"
                  >
                    Retry
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {retries.length > 0 && (
        <ul className="retries" aria-live="polite">
          {retries.slice(0, 5).map((retry) => (
            <li
              key={retry.id}
              className="small"
              data-testid="delivery-retry"
              data-delivery-id={retry.id}
              data-state={retry.state}
            >
              {retryLine(retry)}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
