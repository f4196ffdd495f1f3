import { useState } from 'react'
import { useExport } from '@cardfile/react'
import { clockTime } from '../format'
import { humanMessage } from '../human-message'
import { JobProblem, ProgressBar } from './job-progress'

/** Saves a blob as a file through a temporary link. */
function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** Contact-attribute exports: a date range, progress, and the CSV download. */
export function ExportsPage() {
  const { start, job, error, running, download, canExport } = useExport()
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('')
  const [problem, setProblem] = useState<string | null>(null)

  if (!canExport) {
    return (
      <div className="narrow-page">
        <h1>Exports</h1>
        <p className="muted">Exports are for admins on a plan that includes them.</p>
      </div>
    )
  }
  const progress = Math.round((job?.progress ?? 0) * 100)
  return (
    <div className="narrow-page">
      <header className="page-header">
        <h1>Exports</h1>
        <p className="muted">
          One row per contact: id, channel, hint, VIP, timestamps, then every attribute in the order
          set under Contact attributes. Dropdowns export their labels.
        </p>
      </header>
      <form
        className="card create-form"
        onSubmit={(event) => {
          event.preventDefault()
          setProblem(null)
          start({
            ...(from === '' ? {} : { from }),
            ...(to === '' ? {} : { to }),
          }).catch((e: unknown) => setProblem(humanMessage(e)))
        }}
      >
        <h3>Contact attributes</h3>
        <div className="inline-form">
          <label className="form-row">
            <span>Created from</span>
            <input type="date" value={from} onChange={(event) => setFrom(event.target.value)} />
          </label>
          <label className="form-row">
            <span>to (not including)</span>
            <input type="date" value={to} onChange={(event) => setTo(event.target.value)} />
          </label>
        </div>
        <button
          type="submit"
          className="button primary"
          disabled={running}
          data-testid="start-export"
        >
          {running ? 'Generating…' : 'Generate export'}
        </button>
      </form>
      <JobProblem problem={problem} error={error} />
      {job !== null && (
        <section className="card" data-testid="export-job" data-status={job.status}>
          <h3>
            Export of {clockTime(job.createdAt)} · {job.status}
          </h3>
          <ProgressBar percent={progress} />
          <p className="muted small">
            {job.rows} of {job.total ?? '…'} contacts
            {job.error !== null && ` · ${job.error}`}
          </p>
          {job.status === 'done' && (
            <button
              type="button"
              className="button primary"
              data-testid="download-export"
              onClick={() => {
                download().then(
                  (blob) => save(blob, `contact-attributes-${job.id}.csv`),
                  (e: unknown) => setProblem(humanMessage(e)),
                )
              }}
            >
              Download CSV
            </button>
          )}
        </section>
      )}
    </div>
  )
}
