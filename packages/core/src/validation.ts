import { isOrderKey } from './attribute-order'
import { MAX_PATTERN_INPUT, checkRange, checkRules, patternOf } from './attribute-rules'
import { isChannelId } from './channels'
import { isValidId } from './document-layout'
import type { SettingKey } from './document-layout'
import { ErrorCodes, OK, refuse } from './errors'
import type { CheckResult } from './errors'
import type { AttributeDefinition, AttributeKind } from './types'
import { VIP_ATTRIBUTE_ID } from './types'
import { PLANS } from './types'
import {
  MAX_SELECTED,
  hasOptions,
  isAttributeType,
  isCanonicalDate,
  isCanonicalNumber,
  isEmail,
  isPhone,
  isUrl,
  selectedIds,
} from './value-types'

/** Longest label of an attribute or option, in characters after trimming. */
export const MAX_LABEL_LENGTH = 100
/** Default and bounds of an attribute's `maxLength`. */
export const DEFAULT_MAX_LENGTH = 1000
export const MAX_MAX_LENGTH = 10_000
/** Aliases are CRM keys: short and safe in any JSON or URL. */
export const ALIAS_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/

const normalise = (label: string): string => label.trim().toLowerCase()

function checkLabel(label: unknown, what: string): CheckResult {
  if (typeof label !== 'string') return refuse(ErrorCodes.InvalidLabel, `${what} must be text`)
  const length = label.trim().length
  if (length === 0) return refuse(ErrorCodes.InvalidLabel, `${what} must not be empty`)
  // The stored text is bounded too, not only its trimmed length (writers store labels trimmed):
  // room for stray spaces around it, not for one letter and a megabyte of them on every replica.
  if (length > MAX_LABEL_LENGTH || label.length > 2 * MAX_LABEL_LENGTH) {
    return refuse(ErrorCodes.InvalidLabel, `${what} is longer than ${MAX_LABEL_LENGTH} characters`)
  }
  return OK
}

/**
 * Checks a definition against its own rules and against the other definitions of the
 * workspace (`others` may include `def` itself; it is skipped by id).
 *
 * Rules: a well-formed id and order key; label 1..100 characters once trimmed (200 stored), unique
 * (case-insensitive) among non-retired definitions; alias matching {@link ALIAS_PATTERN} and
 * unique among non-retired definitions; `maxLength` an integer in 1..10000; platform
 * attributes belong to at least one channel and are never CRM-managed; custom attributes
 * belong to no channel; dropdowns and multi-selects have at least two non-retired options with
 * unique labels; rules fit the type (`checkRules`) and a default passes the value checks;
 * text attributes have no options.
 *
 * @example
 * const result = validateDefinition(def, schema.definitions())
 * if (!result.ok) console.warn(result.code, result.message)
 */
export function validateDefinition(
  def: AttributeDefinition,
  others: Iterable<AttributeDefinition>,
): CheckResult {
  const own = checkOwnRules(def)
  if (!own.ok || def.retired) return own
  const ownLabel = normalise(def.label)
  for (const other of others) {
    if (other.id === def.id || other.retired) continue
    if (normalise(other.label) === ownLabel) return duplicateLabel(def)
    if (other.alias.toLowerCase() === def.alias.toLowerCase()) return duplicateAlias(def)
  }
  return OK
}

const duplicateLabel = (def: AttributeDefinition): CheckResult =>
  refuse(ErrorCodes.DuplicateLabel, `another attribute is labelled "${def.label.trim()}"`)
const duplicateAlias = (def: AttributeDefinition): CheckResult =>
  refuse(ErrorCodes.DuplicateAlias, `another attribute has the alias "${def.alias}"`)

/**
 * Checks many definitions against their own rules and against every definition of `all`, as
 * {@link validateDefinition} does one at a time, in time linear in their number (the server
 * judges whole transactions: one admin update may carry thousands of new definitions, and
 * comparing each with every other would hold the event loop for seconds).
 *
 * @example
 * const verdicts = validateDefinitions(touched, schema.definitions())
 */
export function validateDefinitions(
  defs: Iterable<AttributeDefinition>,
  all: Iterable<AttributeDefinition>,
): Map<string, CheckResult> {
  // Ids of live definitions per normalised label and per lower-case alias (at most two kept:
  // a definition conflicts when any id other than its own is listed).
  const labels = new Map<string, string[]>()
  const aliases = new Map<string, string[]>()
  const index = (map: Map<string, string[]>, key: string, id: string): void => {
    const ids = map.get(key)
    if (ids === undefined) map.set(key, [id])
    else if (ids.length < 2 && !ids.includes(id)) ids.push(id)
  }
  for (const other of all) {
    if (other.retired || typeof other.label !== 'string' || typeof other.alias !== 'string') {
      continue
    }
    index(labels, normalise(other.label), other.id)
    index(aliases, other.alias.toLowerCase(), other.id)
  }
  const conflicts = (map: Map<string, string[]>, key: string, id: string): boolean =>
    (map.get(key) ?? []).some((other) => other !== id)
  const verdicts = new Map<string, CheckResult>()
  for (const def of defs) {
    const own = checkOwnRules(def)
    verdicts.set(
      def.id,
      !own.ok || def.retired
        ? own
        : conflicts(labels, normalise(def.label), def.id)
          ? duplicateLabel(def)
          : conflicts(aliases, def.alias.toLowerCase(), def.id)
            ? duplicateAlias(def)
            : OK,
    )
  }
  return verdicts
}

/**
 * VIP, the standard attribute: only under its reserved id, a flag, never CRM-managed, a lookup
 * attribute or retired (VIP is switched off in the settings); and no other attribute takes its
 * id or type.
 */
function checkStandard(def: AttributeDefinition): CheckResult {
  if (def.kind !== 'standard') {
    if (def.id === VIP_ATTRIBUTE_ID) {
      return refuse(ErrorCodes.InvalidDefinition, `the id "${VIP_ATTRIBUTE_ID}" is VIP's`)
    }
    return def.type === 'flag'
      ? refuse(ErrorCodes.InvalidDefinition, 'type must be text or dropdown')
      : OK
  }
  if (def.id !== VIP_ATTRIBUTE_ID || def.type !== 'flag') {
    return refuse(ErrorCodes.InvalidDefinition, 'VIP is the only standard attribute')
  }
  if (def.crmManaged || def.lookup) {
    return refuse(ErrorCodes.InvalidDefinition, 'VIP is neither CRM-managed nor a lookup attribute')
  }
  if (def.retired) {
    return refuse(ErrorCodes.InvalidDefinition, 'VIP is switched off in the settings, not retired')
  }
  if (def.options.length > 0) return refuse(ErrorCodes.InvalidDefinition, 'VIP has no options')
  return OK
}

/** The rules a definition must meet on its own (everything but uniqueness). */
function checkOwnRules(def: AttributeDefinition): CheckResult {
  if (!isValidId(def.id))
    return refuse(ErrorCodes.InvalidDefinition, `bad attribute id "${def.id}"`)
  const label = checkLabel(def.label, 'the label')
  if (!label.ok) return label
  if (def.kind !== 'platform' && def.kind !== 'custom' && def.kind !== 'standard') {
    return refuse(ErrorCodes.InvalidDefinition, 'kind must be platform or custom')
  }
  if (!isAttributeType(def.type)) {
    return refuse(ErrorCodes.InvalidDefinition, `unknown type "${String(def.type)}"`)
  }
  const standard = checkStandard(def)
  if (!standard.ok) return standard
  if (typeof def.alias !== 'string' || !ALIAS_PATTERN.test(def.alias)) {
    return refuse(
      ErrorCodes.InvalidDefinition,
      'the alias must be 1 to 64 letters, digits, dots, dashes or underscores',
    )
  }
  if (!Number.isInteger(def.maxLength) || def.maxLength < 1 || def.maxLength > MAX_MAX_LENGTH) {
    return refuse(ErrorCodes.InvalidDefinition, `maxLength must be 1 to ${MAX_MAX_LENGTH}`)
  }
  if (!isOrderKey(def.order)) return refuse(ErrorCodes.InvalidDefinition, 'bad order key')
  if (!Array.isArray(def.channels) || !def.channels.every(isChannelId)) {
    return refuse(ErrorCodes.InvalidDefinition, 'unknown channel')
  }
  if (new Set(def.channels).size !== def.channels.length) {
    return refuse(ErrorCodes.InvalidDefinition, 'a channel is listed twice')
  }
  if (def.kind === 'platform') {
    if (def.crmManaged) {
      return refuse(
        ErrorCodes.PlatformNotCrmManaged,
        'platform attributes are filled by their channels and cannot be CRM-managed',
      )
    }
    if (def.channels.length === 0) {
      return refuse(ErrorCodes.InvalidDefinition, 'a platform attribute belongs to a channel')
    }
  } else if (def.channels.length > 0) {
    return refuse(ErrorCodes.InvalidDefinition, 'custom attributes show on every channel')
  }
  for (const channel of Object.keys(def.channelVisibility)) {
    if (!(def.channels as readonly string[]).includes(channel)) {
      return refuse(ErrorCodes.InvalidDefinition, `the attribute does not belong to ${channel}`)
    }
  }

  // Options are never deleted: an attribute whose type changed away from options keeps them,
  // retired.
  if (!hasOptions(def.type) && def.options.some((o) => !o.retired)) {
    return refuse(ErrorCodes.InvalidDefinition, `${def.type} attributes have no options`)
  }
  if (hasOptions(def.type)) {
    const seen = new Set<string>()
    let live = 0
    for (const option of def.options) {
      if (!isValidId(option.id)) {
        return refuse(ErrorCodes.InvalidDefinition, `bad option id "${option.id}"`)
      }
      const optionLabel = checkLabel(option.label, 'an option label')
      if (!optionLabel.ok) return optionLabel
      if (!isOrderKey(option.order)) {
        return refuse(ErrorCodes.InvalidDefinition, 'bad option order key')
      }
      if (option.retired) continue
      live++
      const key = normalise(option.label)
      if (seen.has(key)) {
        return refuse(
          ErrorCodes.DuplicateOptionLabel,
          `two options are labelled "${option.label.trim()}"`,
        )
      }
      seen.add(key)
    }
    if (live < 2) {
      return refuse(ErrorCodes.TooFewOptions, `a ${def.type} needs at least two options`)
    }
  }

  const rules = checkRules(def.type, def.rules)
  if (!rules.ok) return rules
  if (def.rules.default !== null) {
    const fits = checkTypedValue(def, def.rules.default)
    if (!fits.ok) {
      return refuse(ErrorCodes.InvalidDefinition, `the default does not fit: ${fits.message}`)
    }
  }
  return OK
}

/**
 * Checks a value against its definition and its rules. `value` is what a contact holds, in the
 * stored form of its type (see `value-types.ts`: text, an option id, `12.5`, `2024-12-31`,
 * `true` ...), null for "cleared" (always acceptable for a known
 * attribute, retired ones included: clearing never breaks a definition). `kind`, when given, is
 * the kind of attribute the value is written as (`wrong-kind` when it differs).
 *
 * Codes: `unknown-attribute`, `wrong-kind`, `retired-attribute`, `type-mismatch`, `too-long`,
 * `not-an-option`, `retired-option`, `invalid-value` (a multi-select option chosen twice),
 * `out-of-range` (min, max, decimals), `pattern-mismatch`. `required` is not checked here: a
 * value may be cleared; resolving a conversation is what needs it ({@link missingRequired}).
 *
 * @example
 * validateValue(planDefinition, 'gold')
 * // { ok: false, code: 'not-an-option', message: '"gold" is not an option of Plan' }
 */
export function validateValue(
  def: AttributeDefinition | undefined,
  value: unknown,
  kind?: AttributeKind,
): CheckResult {
  if (def === undefined) return refuse(ErrorCodes.UnknownAttribute, 'no such attribute')
  if (kind !== undefined && def.kind !== kind) {
    return refuse(ErrorCodes.WrongKind, `${def.label} is a ${def.kind} attribute`)
  }
  if (value === null) return OK
  if (def.retired) return refuse(ErrorCodes.RetiredAttribute, `${def.label} is retired`)
  if (typeof value !== 'string') {
    return refuse(ErrorCodes.TypeMismatch, `a value of ${def.label} must be text`)
  }
  return checkTypedValue(def, value)
}

const mismatch = (def: AttributeDefinition, what: string): CheckResult =>
  refuse(ErrorCodes.TypeMismatch, `${def.label} must be ${what}`)

/** Checks a stored-form value against its attribute's type and rules (not retirement). */
function checkTypedValue(def: AttributeDefinition, value: string): CheckResult {
  switch (def.type) {
    case 'text':
    case 'longtext': {
      if (value.length > def.maxLength) {
        return refuse(
          ErrorCodes.TooLong,
          `a value of ${def.label} is at most ${def.maxLength} characters`,
        )
      }
      const pattern = def.type === 'text' ? patternOf(def.rules) : null
      if (pattern === null) return OK
      // Bounded input keeps matching fast whatever the pattern (nested repetition is refused).
      if (value.length > MAX_PATTERN_INPUT) {
        return refuse(
          ErrorCodes.TooLong,
          `a value of ${def.label} is at most ${MAX_PATTERN_INPUT} characters`,
        )
      }
      return pattern.test(value)
        ? OK
        : refuse(
            ErrorCodes.PatternMismatch,
            def.rules.help !== ''
              ? `${def.label} does not have the expected form: ${def.rules.help}`
              : `${def.label} does not have the expected form`,
          )
    }
    case 'dropdown': {
      const option = def.options.find((o) => o.id === value)
      if (!option) {
        return refuse(ErrorCodes.NotAnOption, `"${value}" is not an option of ${def.label}`)
      }
      if (option.retired) {
        return refuse(
          ErrorCodes.RetiredOption,
          `"${option.label}" is a retired option of ${def.label}`,
        )
      }
      return OK
    }
    case 'multiselect': {
      if (value === '') return mismatch(def, 'one option or more (clear it instead)')
      const ids = selectedIds(value)
      if (ids.length > MAX_SELECTED) {
        return refuse(ErrorCodes.TooLong, `${def.label} holds at most ${MAX_SELECTED} options`)
      }
      const seen = new Set<string>()
      for (const id of ids) {
        const option = def.options.find((o) => o.id === id)
        if (!option) {
          return refuse(ErrorCodes.NotAnOption, `"${id}" is not an option of ${def.label}`)
        }
        if (option.retired) {
          return refuse(
            ErrorCodes.RetiredOption,
            `"${option.label}" is a retired option of ${def.label}`,
          )
        }
        if (seen.has(id)) {
          return refuse(ErrorCodes.InvalidValue, `"${option.label}" is chosen twice`)
        }
        seen.add(id)
      }
      return OK
    }
    case 'number':
      if (!isCanonicalNumber(value)) {
        return mismatch(def, 'a number such as 12.5 (below a million billion)')
      }
      return checkRange(def.type, def.rules, value, def.label)
    case 'date':
      if (!isCanonicalDate(value)) return mismatch(def, 'a date such as 2024-12-31')
      return checkRange(def.type, def.rules, value, def.label)
    case 'checkbox':
      return value === 'true' || value === 'false' ? OK : mismatch(def, 'true or false')
    case 'url':
      return isUrl(value) ? OK : mismatch(def, 'a web address starting with http:// or https://')
    case 'email':
      return isEmail(value) ? OK : mismatch(def, 'an email address such as ana@example.com')
    case 'phone':
      return isPhone(value) ? OK : mismatch(def, 'a phone number such as +14155550100')
    case 'flag':
      // The VIP standard attribute's value is the contact's VIP flag, never a custom value.
      return mismatch(def, 'set with the VIP switch')
  }
}

/**
 * Checks the value of one workspace setting. `definitions` is needed for the matching
 * attribute, which must name a live attribute.
 *
 * @example
 * validateSetting('vipPriorityBoost', 2, schema.view().definitions) // { ok: true }
 */
export function validateSetting(
  key: SettingKey,
  value: unknown,
  definitions: ReadonlyMap<string, AttributeDefinition>,
): CheckResult {
  const bad = (what: string) => refuse(ErrorCodes.InvalidValue, `${key} must be ${what}`)
  switch (key) {
    case 'vipEnabled':
    case 'agentsMayEditCrm':
      return typeof value === 'boolean' ? OK : bad('true or false')
    case 'vipTeam':
      return value === null || (typeof value === 'string' && isValidId(value))
        ? OK
        : bad('null or a team id')
    case 'vipPriorityBoost':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1000
        ? OK
        : bad('a number from 0 to 1000')
    case 'plan':
      return (PLANS as readonly unknown[]).includes(value) ? OK : bad(`one of ${PLANS.join(', ')}`)
    case 'matchingAttribute': {
      if (value === null) return OK
      if (typeof value !== 'string') return bad('null or an attribute id')
      const def = definitions.get(value)
      if (!def) return refuse(ErrorCodes.UnknownAttribute, `no attribute "${value}" to match on`)
      if (def.retired) return refuse(ErrorCodes.RetiredAttribute, `${def.label} is retired`)
      return OK
    }
  }
}

/**
 * The required attributes that a contact lacks a value of: live custom attributes whose rules
 * say `required`, with no value (null, absent or empty) and no default. `valueOf` reads the
 * contact's stored value of an attribute.
 *
 * @example
 * missingRequired(schema.definitions(), (id) => contact.data().custom[id]?.value)
 * // [{ id: 'order_number', label: 'Order number', ... }]
 */
export function missingRequired(
  definitions: Iterable<AttributeDefinition>,
  valueOf: (attributeId: string) => unknown,
): AttributeDefinition[] {
  const missing: AttributeDefinition[] = []
  for (const def of definitions) {
    if (def.kind !== 'custom' || def.retired || !def.rules.required) continue
    if (def.rules.default !== null) continue
    const value = valueOf(def.id)
    if (typeof value !== 'string' || value === '') missing.push(def)
  }
  return missing
}
