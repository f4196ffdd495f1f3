import { useState } from 'react'
import type { FormEvent } from 'react'
import type { DropdownOption } from '@cardfile/core'
import { attempt } from '../attempt'
import type { AttributeEditorProps } from './attribute-editor-props'

/**
 * The options of a dropdown: rename, move up or down, retire and restore, add. A retired
 * option stays on the contacts that hold it (shown as retired) but can no longer be chosen.
 */
export function OptionEditor({ admin, def, onProblem }: AttributeEditorProps) {
  const live = def.options.filter((o) => !o.retired)
  const retired = def.options.filter((o) => o.retired)
  const [newOption, setNewOption] = useState('')

  /** Moves an option next to its neighbour; null at either end of the list. */
  const move = (
    id: string,
    neighbour: DropdownOption | undefined,
    side: 'before' | 'after',
  ): (() => void) | null =>
    neighbour === undefined
      ? null
      : () =>
          onProblem(
            attempt(() =>
              admin.moveOption(
                def.id,
                id,
                side === 'before' ? { before: neighbour.id } : { after: neighbour.id },
              ),
            ),
          )

  const add = (event: FormEvent): void => {
    event.preventDefault()
    const text = newOption.trim()
    if (text === '') return
    const problem = attempt(() => admin.addOption(def.id, { label: text }))
    onProblem(problem)
    if (problem === null) setNewOption('')
  }

  return (
    <div className="option-editor" data-testid="option-editor">
      <h4>Options</h4>
      <ol className="option-list" aria-label={`Options of ${def.label}`}>
        {live.map((option, index) => (
          <OptionRow
            key={option.id}
            option={option}
            attributeLabel={def.label}
            onRename={(label) => attempt(() => admin.renameOption(def.id, option.id, label))}
            onMoveUp={move(option.id, live[index - 1], 'before')}
            onMoveDown={move(option.id, live[index + 1], 'after')}
            onRetire={() => onProblem(attempt(() => admin.retireOption(def.id, option.id)))}
            onProblem={onProblem}
          />
        ))}
      </ol>
      <form className="inline-form" onSubmit={add}>
        <input
          className="small-input"
          value={newOption}
          placeholder="New option"
          aria-label={`Add an option to ${def.label}`}
          onChange={(event) => setNewOption(event.target.value)}
        />
        <button type="submit" className="button small" disabled={newOption.trim() === ''}>
          Add
        </button>
      </form>
      {retired.length > 0 && (
        <div className="retired-options">
          <span className="muted small">Retired (kept on contacts that have them):</span>
          <ul>
            {retired.map((option) => (
              <li key={option.id} data-testid="retired-option" data-option-id={option.id}>
                <span className="option-chip retired-chip">{option.label}</span>
                <button
                  type="button"
                  className="button small ghost"
                  aria-label={`Restore option ${option.label} of ${def.label}`}
                  onClick={() =>
                    onProblem(attempt(() => admin.retireOption(def.id, option.id, false)))
                  }
                >
                  Restore
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  )
}

function OptionRow({
  option,
  attributeLabel,
  onRename,
  onMoveUp,
  onMoveDown,
  onRetire,
  onProblem,
}: {
  option: DropdownOption
  attributeLabel: string
  onRename: (label: string) => string | null
  onMoveUp: (() => void) | null
  onMoveDown: (() => void) | null
  onRetire: () => void
  onProblem: (message: string | null) => void
}) {
  const [editing, setEditing] = useState(false)
  const [label, setLabel] = useState(option.label)
  const name = `option ${option.label} of ${attributeLabel}`

  const save = (event: FormEvent): void => {
    event.preventDefault()
    const text = label.trim()
    if (text === option.label) {
      setEditing(false)
      return
    }
    const problem = onRename(text)
    onProblem(problem)
    if (problem === null) setEditing(false)
  }

  return (
    <li className="option-row" data-testid="option-row" data-option-id={option.id}>
      {editing ? (
        <form className="inline-form" onSubmit={save}>
          <input
            className="small-input"
            value={label}
            aria-label={`New label for ${name}`}
            onChange={(event) => setLabel(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') setEditing(false)
            }}
            autoFocus
          />
          <button type="submit" className="button small primary">
            Save
          </button>
          <button type="button" className="button small ghost" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <span className="option-label">{option.label}</span>
          <span className="option-actions">
            <button
              type="button"
              className="button small ghost"
              aria-label={`Move ${name} up`}
              disabled={onMoveUp === null}
              onClick={() => onMoveUp?.()}
            >
              ↑
            </button>
            <button
              type="button"
              className="button small ghost"
              aria-label={`Move ${name} down`}
              disabled={onMoveDown === null}
              onClick={() => onMoveDown?.()}
            >
              ↓
            </button>
            <button
              type="button"
              className="button small ghost"
              aria-label={`Rename ${name}`}
              onClick={() => {
                setLabel(option.label)
                setEditing(true)
              }}
            >
              Rename
            </button>
            <button
              type="button"
              className="button small ghost"
              aria-label={`Retire ${name}`}
              onClick={onRetire}
            >
              Retire
            </button>
          </span>
        </>
      )}
    </li>
  )
}
