import { useState } from 'react'
import type { AttributeDefinition } from '@cardfile/core'
import { useRelink } from '@cardfile/react'
import type { RelinkJobInfo } from '@cardfile/react'
import { adminMessage } from '../admin-messages'
import { ago, clockTime } from '../format'
import { ProgressBar } from './job-progress'

const byWhat = (job: RelinkJobInfo, attributes: readonly AttributeDefinition[]): string =>
  job.attribute === null
    ? 'without a matching attribute'
    : `by ${attributes.find((a) => a.id === job.attribute)?.label ?? job.attribute}`

function outcome(job: RelinkJobInfo, attributes: readonly AttributeDefinition[]): string {
  const contacts = `${job.processed} contact${job.processed === 1 ? '' : 's'}`
  switch (job.state) {
    case 'queued':
      return `Re-linking ${byWhat(job, attributes)} is about to start.`
    case 'running':
      return `Re-linking ${byWhat(job, attributes)}: ${job.processed} of ${job.total || '…'} contacts.`
    case 'done':
      return `Re-linked ${byWhat(job, attributes)} ${ago(job.finishedAt ?? job.startedAt)}: ${contacts}, ${job.changed} changed.`
    case 'failed':
      return `The re-link failed (${job.error ?? 'no reason given'}). Contacts keep their earlier links; try again with “Re-link now”.`
    case 'cancelled':
      return 'This re-link was replaced by a newer one.'
  }
}

/**
 * The workspace's latest re-link (after a change of the matching attribute, or asked for by
 * hand): its progress while it runs and its outcome after.
 */
export function RelinkProgress({ attributes }: { attributes: readonly AttributeDefinition[] }) {
  const { job, running, error, start, canStart } = useRelink()
  const [problem, setProblem] = useState<string | null>(null)
  const active = job !== null && (job.state === 'queued' || job.state === 'running')
  const percent =
    job === null || job.total === 0 ? 0 : Math.round((job.processed / job.total) * 100)

  return (
    <div className="relink" data-testid="relink" data-state={job?.state ?? 'none'}>
      {job === null && !running && (
        <p className="muted small">Contacts have not been re-linked since the workspace began.</p>
      )}
      {running && !active && (
        <p className="small" role="status">
          Waiting for the server to start re-linking…
        </p>
      )}
      {job !== null && (
        <>
          {active && <ProgressBar percent={percent} label="Re-link progress" />}
          <p
            className="small"
            role="status"
            title={`Started ${clockTime(job.startedAt)}`}
            data-testid="relink-outcome"
          >
            {outcome(job, attributes)}
          </p>
        </>
      )}
      {(problem !== null || error !== null) && (
        <p className="notice error" role="alert">
          {problem ?? adminMessage(error)}
        </p>
      )}
      {canStart && (
        <button
          type="button"
          className="button small"
          disabled={active}
          onClick={() => {
            setProblem(null)
            start().catch((e: unknown) => setProblem(adminMessage(e)))
          }}
          data-testid="relink-now"
        >
          Re-link now
        </button>
      )}
    </div>
  )
}
