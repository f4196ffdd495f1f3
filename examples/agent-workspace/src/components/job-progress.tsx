import { humanMessage } from '../human-message'

/**
 * A background job's progress bar, `percent` from 0 to 100. `label` names it for screen
 * readers where no heading beside it says which job it is.
 */
export function ProgressBar({ percent, label }: { percent: number; label?: string }) {
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
    >
      <span style={{ width: `${percent}%` }} />
    </div>
  )
}

/**
 * Why a job page's last request failed: `problem`, what the page caught itself (a refused
 * start, a failed download), before `error`, what the job hook reports. Nothing without either.
 */
export function JobProblem({ problem, error }: { problem: string | null; error: unknown }) {
  if (problem === null && error === null) return null
  return (
    <p className="notice error" role="alert">
      {problem ?? humanMessage(error)}
    </p>
  )
}
