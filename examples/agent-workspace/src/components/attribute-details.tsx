import { useEffect, useState } from 'react'
import type { FormEvent } from 'react'
import { attempt } from '../attempt'
import { AttributeRulesEditor, AttributeTypeChange } from './attribute-rules'
import { OptionEditor } from './option-editor'
import { Switch } from './switch'
import type { AttributeEditorProps } from './attribute-editor-props'

/**
 * What an admin edits of one attribute beyond its label and visibility: the alias the CRM
 * knows it by, whether the CRM manages its values, whether contacts are looked up by it, and
 * a dropdown's or multi-select's options, and its rules.
 */
export function AttributeDetails({ admin, def, onProblem }: AttributeEditorProps) {
  const [alias, setAlias] = useState(def.alias)
  // Another admin's change shows here unless this admin is typing one of their own.
  const [editingAlias, setEditingAlias] = useState(false)
  useEffect(() => {
    if (!editingAlias) setAlias(def.alias)
  }, [def.alias, editingAlias])
  const crm = admin.capabilities.crm

  const saveAlias = (event: FormEvent): void => {
    event.preventDefault()
    const problem = attempt(() => admin.updateAttribute(def.id, { alias: alias.trim() }))
    onProblem(problem)
    if (problem === null) setEditingAlias(false)
  }

  return (
    <div className="attribute-details" data-testid="attribute-details">
      <form className="details-section" onSubmit={saveAlias}>
        <label className="form-row">
          <span>Alias</span>
          <span className="inline-form">
            <input
              value={alias}
              aria-label={`Alias of ${def.label}`}
              onChange={(event) => {
                setAlias(event.target.value)
                setEditingAlias(true)
              }}
              data-testid="alias-input"
            />
            <button
              type="submit"
              className="button small"
              disabled={alias.trim() === def.alias}
              data-testid="save-alias"
            >
              Save alias
            </button>
          </span>
        </label>
        <p className="muted small">
          The name the CRM and exports use for this attribute: letters, digits, dots, dashes or
          underscores.
        </p>
      </form>
      <div className="details-section">
        {crm ? (
          <>
            {def.kind === 'custom' && (
              <div className="details-switch">
                <Switch
                  checked={def.crmManaged}
                  label="Managed by the CRM"
                  showLabel
                  onChange={(next) =>
                    onProblem(attempt(() => admin.updateAttribute(def.id, { crmManaged: next })))
                  }
                />
                <p className="muted small">
                  Look-ups fill it in from the CRM. Agents may change it only while “Allow agents to
                  add and edit CRM-managed attributes” is on.
                </p>
              </div>
            )}
            {def.kind !== 'standard' && (
              <div className="details-switch">
                <Switch
                  checked={def.lookup}
                  label="Look contacts up by it"
                  showLabel
                  onChange={(next) =>
                    onProblem(attempt(() => admin.updateAttribute(def.id, { lookup: next })))
                  }
                />
                <p className="muted small">
                  Its value is sent to the CRM to find the contact, and a new value looks the
                  contact up again.
                </p>
              </div>
            )}
          </>
        ) : (
          <p className="muted small">
            Your plan ({admin.settings.plan}) doesn&apos;t include the CRM integration, so CRM flags
            are not available.
          </p>
        )}
      </div>
      {def.kind === 'custom' && (def.type === 'dropdown' || def.type === 'multiselect') && (
        <OptionEditor admin={admin} def={def} onProblem={onProblem} />
      )}
      {def.kind === 'custom' && (
        <AttributeRulesEditor admin={admin} def={def} onProblem={onProblem} />
      )}
      {def.kind === 'custom' && <AttributeTypeChange key={def.type} def={def} />}
    </div>
  )
}
