import { DEFAULT_RULES } from './attribute-rules'
import type { AttributeDefinition, AttributeType, DropdownOption } from './types'
import { validateValue } from './validation'
import { formatValue, hasOptions, isTextType, normaliseInput, selectedIds } from './value-types'

/*
 * Changing an attribute's type. Values are converted through their display form (option labels,
 * Yes/No, the text itself) read as the new type; a value that does not read as the new type is
 * reported, never dropped or guessed. The server applies a change only when every value
 * converts, so nothing is lost.
 */

/** A value that cannot follow a type change. */
export interface ConversionFailure {
  readonly contactId: string
  /** The stored value. */
  readonly value: string
  /** Why it does not convert (the new type's validation message). */
  readonly reason: string
}

/** What a type change would do (or did) to the values of the workspace's contacts. */
export interface ConversionReport {
  readonly attributeId: string
  readonly from: AttributeType
  readonly to: AttributeType
  /** Contacts whose value converts (the stored form may change). */
  readonly converted: number
  /** Contacts whose value cannot convert: the change is refused while there is one. */
  readonly failures: readonly ConversionFailure[]
  /** Whether the change was made. */
  readonly applied: boolean
}

/**
 * The definition after a type change: the new type, options kept for dropdowns and
 * multi-selects (given ones added), retired for other types, rules kept where they still
 * mean something (required and help always; a pattern on text; bounds and decimals between
 * number and date only when the type stays; the default only when it converts).
 *
 * @example
 * convertedDefinition(notes, 'longtext')
 */
export function convertedDefinition(
  def: AttributeDefinition,
  to: AttributeType,
  options: readonly DropdownOption[] = [],
): AttributeDefinition {
  // Options are never deleted: a type without options keeps them retired, and options given
  // for a type with options join the ones it had.
  const keepOptions = hasOptions(to)
    ? [...def.options, ...options.filter((o) => !def.options.some((d) => d.id === o.id))]
    : def.options.map((o) => (o.retired ? o : Object.freeze({ ...o, retired: true })))
  const rules = {
    ...DEFAULT_RULES,
    required: def.rules.required,
    help: def.rules.help,
    pattern: to === 'text' ? def.rules.pattern : null,
  }
  const base: AttributeDefinition = { ...def, type: to, options: keepOptions, rules }
  if (def.rules.default !== null) {
    const converted = convertValue(def, base, def.rules.default)
    if (converted.ok) return { ...base, rules: { ...rules, default: converted.value } }
  }
  return base
}

/**
 * Converts one stored value of `from` into the stored form of `to` (a definition with the new
 * type), or says why it cannot.
 *
 * @example
 * convertValue(ageAsText, ageAsNumber, ' 42 ') // { ok: true, value: '42' }
 * convertValue(ageAsText, ageAsNumber, 'forty') // { ok: false, reason: 'Age must be a number ...' }
 */
export function convertValue(
  from: AttributeDefinition,
  to: AttributeDefinition,
  value: string,
): { ok: true; value: string } | { ok: false; reason: string } {
  const shown = formatValue(from, value)
  let candidate: string | null
  if (hasOptions(to.type)) {
    // Options are matched by id (a dropdown becoming a multi-select keeps its options), then by
    // label; free text becoming a multi-select lists labels separated by commas.
    const pieces =
      from.type === 'multiselect'
        ? selectedIds(value)
        : from.type === 'dropdown' || to.type === 'dropdown'
          ? [from.type === 'dropdown' ? value : shown]
          : shown.split(',')
    const ids = pieces.map((piece) => {
      const wanted = piece.trim().toLowerCase()
      return (
        to.options.find((o) => o.id === piece.trim())?.id ??
        to.options.find((o) => o.label.trim().toLowerCase() === wanted)?.id ??
        null
      )
    })
    if (ids.length === 0 || ids.some((id) => id === null)) {
      return { ok: false, reason: `"${shown}" is not an option of ${to.label}` }
    }
    if (to.type === 'dropdown' && ids.length !== 1) {
      return { ok: false, reason: `"${shown}" holds more than one option` }
    }
    candidate = [...new Set(ids)].join(',')
  } else if (isTextType(to.type)) {
    candidate = shown
  } else {
    candidate = normaliseInput(to.type, shown)
  }
  if (candidate === null) {
    const check = validateValue(to, shown)
    return { ok: false, reason: check.ok ? `"${shown}" is not a ${to.type}` : check.message }
  }
  const check = validateValue(to, candidate)
  return check.ok ? { ok: true, value: candidate } : { ok: false, reason: check.message }
}
