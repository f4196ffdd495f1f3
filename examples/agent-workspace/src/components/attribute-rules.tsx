import { useState } from 'react'
import { ATTRIBUTE_TYPES } from '@cardfile/core'
import { changeAttributeType } from '../api'
import type { TypeChangeReport } from '../api'
import { humanMessage } from '../human-message'
import { useSession } from '../session-context'
import type { FormEvent } from 'react'
import { hasOptions, isRangeType, normaliseInput } from '@cardfile/core'
import type { AttributeDefinition, AttributeRules, AttributeType } from '@cardfile/core'
import { attempt } from '../attempt'
import type { AttributeEditorProps } from './attribute-editor-props'

/** How the settings page names each attribute type. */
export const TYPE_LABELS: Readonly<Record<AttributeType, string>> = {
  text: 'Text field',
  longtext: 'Long text',
  dropdown: 'Dropdown list',
  multiselect: 'Multi-select list',
  number: 'Number',
  date: 'Date',
  checkbox: 'Checkbox',
  url: 'Link (URL)',
  email: 'Email address',
  phone: 'Phone number',
  flag: 'VIP flag',
}

/** The rules form's fields, as typed (empty: no rule). */
export interface RulesDraft {
  required: boolean
  pattern: string
  min: string
  max: string
  decimals: string
  default: string
  help: string
}

/** An empty draft, or the draft of existing rules (shown in their display form). */
export function rulesDraft(def?: AttributeDefinition): RulesDraft {
  const rules = def?.rules
  const dflt = rules?.default ?? null
  return {
    required: rules?.required ?? false,
    pattern: rules?.pattern ?? '',
    min: rules?.min ?? '',
    max: rules?.max ?? '',
    decimals: rules?.decimals === null || rules?.decimals === undefined ? '' : `${rules.decimals}`,
    default:
      dflt === null || def === undefined
        ? ''
        : hasOptions(def.type)
          ? dflt
              .split(',')
              .map((id) => def.options.find((o) => o.id === id)?.label ?? id)
              .join(', ')
          : dflt,
    help: rules?.help ?? '',
  }
}

/**
 * The rules a draft stands for, for an attribute of `type` with `options`: bounds and the
 * default read as that type (a number typed "1,5" is 1.5; a default of a list names options by
 * label), rules the type has no use for left out. What cannot be read is passed on as typed, so
 * the SDK's validation refuses it with a sentence.
 */
export function draftRules(
  draft: RulesDraft,
  type: AttributeType,
  options: readonly { id: string; label: string }[],
): Partial<AttributeRules> {
  const typed = (text: string): string | null =>
    text.trim() === '' ? null : (normaliseInput(type, text) ?? text.trim())
  const byLabel = (text: string): string | null => {
    if (text.trim() === '') return null
    return text
      .split(',')
      .map((label) => {
        const wanted = label.trim().toLowerCase()
        return options.find((o) => o.label.trim().toLowerCase() === wanted)?.id ?? label.trim()
      })
      .join(',')
  }
  return {
    required: draft.required,
    pattern: type === 'text' && draft.pattern.trim() !== '' ? draft.pattern.trim() : null,
    min: isRangeType(type) ? typed(draft.min) : null,
    max: isRangeType(type) ? typed(draft.max) : null,
    decimals:
      type === 'number' && draft.decimals.trim() !== '' ? Number(draft.decimals.trim()) : null,
    default: hasOptions(type) ? byLabel(draft.default) : typed(draft.default),
    help: draft.help.trim(),
  }
}

/** The inputs of the rules that apply to `type`. */
export function RulesFields({
  type,
  draft,
  onChange,
}: {
  type: AttributeType
  draft: RulesDraft
  onChange: (draft: RulesDraft) => void
}) {
  const set = <K extends keyof RulesDraft>(key: K, value: RulesDraft[K]): void =>
    onChange({ ...draft, [key]: value })
  const boundType = type === 'date' ? 'date' : 'text'
  return (
    <fieldset className="rules-fields" data-testid="rules-fields">
      <legend>Rules</legend>
      <label className="form-row checkbox-row">
        <input
          type="checkbox"
          checked={draft.required}
          onChange={(event) => set('required', event.target.checked)}
          data-testid="rule-required"
        />
        <span>Required before a conversation is resolved</span>
      </label>
      {type === 'text' && (
        <label className="form-row">
          <span>Pattern (regular expression)</span>
          <input
            value={draft.pattern}
            onChange={(event) => set('pattern', event.target.value)}
            placeholder="e.g. ^[A-Z]{2}-[0-9]{4}$"
            data-testid="rule-pattern"
          />
        </label>
      )}
      {isRangeType(type) && (
        <div className="form-pair">
          <label className="form-row">
            <span>Minimum</span>
            <input
              type={boundType}
              inputMode={type === 'number' ? 'decimal' : undefined}
              value={draft.min}
              onChange={(event) => set('min', event.target.value)}
              data-testid="rule-min"
            />
          </label>
          <label className="form-row">
            <span>Maximum</span>
            <input
              type={boundType}
              inputMode={type === 'number' ? 'decimal' : undefined}
              value={draft.max}
              onChange={(event) => set('max', event.target.value)}
              data-testid="rule-max"
            />
          </label>
        </div>
      )}
      {type === 'number' && (
        <label className="form-row">
          <span>Decimals (0 for whole numbers, empty for up to 6)</span>
          <input
            inputMode="numeric"
            value={draft.decimals}
            onChange={(event) => set('decimals', event.target.value)}
            data-testid="rule-decimals"
          />
        </label>
      )}
      <label className="form-row">
        <span>
          Default{hasOptions(type) ? ' (option labels, separated by commas)' : ''}
          {type === 'checkbox' ? ' (yes or no)' : ''}
        </span>
        <input
          type={type === 'date' ? 'date' : 'text'}
          value={draft.default}
          onChange={(event) => set('default', event.target.value)}
          data-testid="rule-default"
        />
      </label>
      <label className="form-row">
        <span>Help text shown to agents</span>
        <input
          value={draft.help}
          onChange={(event) => set('help', event.target.value)}
          data-testid="rule-help"
        />
      </label>
    </fieldset>
  )
}

/**
 * The rules of an existing custom attribute, edited as a whole: saved with one update, which
 * the SDK refuses with a sentence when the rules do not hold (a minimum above the maximum, a
 * default that breaks them, a pattern that does not compile).
 */
export function AttributeRulesEditor({ admin, def, onProblem }: AttributeEditorProps) {
  const [draft, setDraft] = useState(() => rulesDraft(def))
  const [problem, setProblem] = useState<string | null>(null)
  const save = (event: FormEvent): void => {
    event.preventDefault()
    const result = attempt(() =>
      admin.updateAttribute(def.id, { rules: draftRules(draft, def.type, def.options) }),
    )
    setProblem(result)
    onProblem(result)
  }
  return (
    <form className="details-section" onSubmit={save} aria-label={`Rules of ${def.label}`}>
      <RulesFields type={def.type} draft={draft} onChange={setDraft} />
      {problem !== null && (
        <p className="field-error" role="alert" data-testid="rules-error">
          {problem}
        </p>
      )}
      <button type="submit" className="button small rules-save" data-testid="save-rules">
        Save rules
      </button>
    </form>
  )
}

/**
 * Changes the type of a custom attribute through the server, which converts every stored value:
 * "Check" lists the values that would not convert, "Change type" goes ahead only when none is
 * left (the server refuses otherwise, and nothing changes).
 */
export function AttributeTypeChange({ def }: { def: AttributeDefinition }) {
  const session = useSession()
  const [type, setType] = useState<AttributeType>(def.type === 'text' ? 'longtext' : 'text')
  const [report, setReport] = useState<TypeChangeReport | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const run = (apply: boolean): void => {
    setProblem(null)
    changeAttributeType(session, def.id, type, apply).then(setReport, (error: unknown) => {
      setReport(null)
      setProblem(humanMessage(error))
    })
  }
  return (
    <div className="details-section" data-testid="type-change">
      <label className="form-row">
        <span>Change the type (values are converted)</span>
        <span className="inline-form">
          <select
            value={type}
            aria-label={`New type of ${def.label}`}
            onChange={(event) => {
              setType(ATTRIBUTE_TYPES.find((t) => t === event.target.value) ?? 'text')
              setReport(null)
            }}
          >
            {ATTRIBUTE_TYPES.filter((t) => t !== def.type).map((t) => (
              <option key={t} value={t}>
                {TYPE_LABELS[t]}
              </option>
            ))}
          </select>
          <button type="button" className="button small" onClick={() => run(false)}>
            Check
          </button>
          <button type="button" className="button small" onClick={() => run(true)}>
            Change type
          </button>
        </span>
      </label>
      {report !== null && (
        <div className="muted small" role="status" data-testid="type-change-report">
          {report.applied
            ? `Changed: ${report.converted} value(s) converted.`
            : `${report.converted} value(s) would convert; ${report.failures.length} would not${
                report.failures.length > 0 ? ' (fix them, or the change is refused)' : ''
              }.`}
          {report.failures.length > 0 && (
            <ul>
              {report.failures.slice(0, 20).map((f) => (
                <li key={f.contactId}>
                  “{f.value}”: {f.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {problem !== null && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  )
}
