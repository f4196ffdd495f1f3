/** An accessible on/off switch (a button with role="switch"). */
export function Switch({
  checked,
  onChange,
  label,
  disabled,
  showLabel,
}: {
  checked: boolean
  onChange: (next: boolean) => void
  label: string
  disabled?: boolean
  showLabel?: boolean
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={showLabel === true ? undefined : label}
      disabled={disabled}
      className={`switch${checked ? ' on' : ''}`}
      onClick={() => onChange(!checked)}
    >
      <span className="switch-track" aria-hidden="true">
        <span className="switch-thumb" />
      </span>
      {showLabel === true && <span className="switch-label">{label}</span>}
    </button>
  )
}
