import { useState } from 'react'
import { useAttributes, useImport } from '@cardfile/react'
import { clockTime } from '../format'
import { humanMessage } from '../human-message'
import { JobProblem, ProgressBar } from './job-progress'

/** Contact imports: upload a CSV, follow its progress, read the rows the server refused. */
export function ImportsPage() {
  const { start, job, error, running, progress, canImport } = useImport()
  const { attributes } = useAttributes()
  const [file, setFile] = useState<File | null>(null)
  const [problem, setProblem] = useState<string | null>(null)

  if (!canImport) {
    return (
      <div className="narrow-page">
        <h1>Import contacts</h1>
        <p className="muted">Imports are for admins.</p>
      </div>
    )
  }
  const aliases = attributes.filter((a) => a.kind === 'custom').map((a) => a.alias)
  const percent = Math.round(progress * 100)
  return (
    <div className="narrow-page">
      <header className="page-header">
        <h1>Import contacts</h1>
        <p className="muted">
          A CSV with the columns <code>channel</code> and <code>platformUserId</code>, then one
          column per attribute named by its alias
          {aliases.length > 0 && (
            <>
              {' '}
              (<code>{aliases.join(', ')}</code>)
            </>
          )}
          . Dropdowns take an option&apos;s label; an empty cell leaves the value as it is. A
          contact with the same channel identity is updated, any other is created.
        </p>
      </header>
      <form
        className="card create-form"
        onSubmit={(event) => {
          event.preventDefault()
          if (file === null) return
          setProblem(null)
          start(file).catch((e: unknown) => setProblem(humanMessage(e)))
        }}
      >
        <label className="form-row">
          <span>CSV file</span>
          <input
            type="file"
            accept=".csv,text/csv"
            data-testid="import-file"
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
        </label>
        <button
          type="submit"
          className="button primary"
          disabled={running || file === null}
          data-testid="start-import"
        >
          {running ? 'Importing…' : 'Import'}
        </button>
      </form>
      <JobProblem problem={problem} error={error} />
      {job !== null && (
        <section className="card" data-testid="import-job" data-state={job.state}>
          <h3>
            Import of {clockTime(job.createdAt)} · {job.state === 'queued' ? 'waiting' : job.state}
          </h3>
          <ProgressBar percent={percent} />
          <p className="muted small" data-testid="import-counts">
            {job.phase === 'checking'
              ? 'Checking the file…'
              : `${job.rows} of ${job.total ?? '…'} rows · ${job.created} created · ${job.updated} updated · ${job.unchanged} unchanged · ${job.refused} refused`}
          </p>
          {job.error !== null && (
            <p className="notice error" data-testid="import-error">
              Nothing was imported: {job.error}
            </p>
          )}
          {job.refusals.length > 0 && (
            <table className="table" data-testid="import-refusals">
              <thead>
                <tr>
                  <th>Row</th>
                  <th>Column</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {job.refusals.flatMap((refusal) =>
                  refusal.errors.map((e, i) => (
                    <tr key={`${refusal.row}-${i}`}>
                      <td>{refusal.row}</td>
                      <td>{e.column}</td>
                      <td>{e.message}</td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          )}
          {job.refused > job.refusals.length && (
            <p className="muted small">
              The first {job.refusals.length} of {job.refused} refused rows are listed.
            </p>
          )}
        </section>
      )}
    </div>
  )
}
