import { ErrorCodes, OK, refuse } from './errors'
import type { CheckResult } from './errors'
import type { AttributeRules, AttributeType } from './types'
import {
  MAX_DECIMALS,
  compareValues,
  isCanonicalDate,
  isCanonicalNumber,
  isRangeType,
} from './value-types'

/*
 * Per-attribute rules: required (checked when a conversation is resolved), a pattern for text,
 * min/max and decimals for numbers and dates, a default, and help text. Stored as one JSON
 * object under the definition's `rules` key; a definition without one has DEFAULT_RULES (every
 * document written before rules existed).
 */

/** Longest pattern, in characters. */
export const MAX_PATTERN_LENGTH = 200
/**
 * Longest value a pattern is tested against, in characters: with nested repetition refused
 * (see {@link checkPattern}), matching stays polynomial, and this bound keeps it fast.
 */
export const MAX_PATTERN_INPUT = 256
/** Longest help text, in characters. */
export const MAX_HELP_LENGTH = 500

/** The rules of a definition that has none. */
export const DEFAULT_RULES: AttributeRules = Object.freeze({
  required: false,
  pattern: null,
  min: null,
  max: null,
  decimals: null,
  default: null,
  help: '',
})

const RULE_KEYS: readonly (keyof AttributeRules)[] = [
  'required',
  'pattern',
  'min',
  'max',
  'decimals',
  'default',
  'help',
]

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const invalid = (message: string): CheckResult => refuse(ErrorCodes.InvalidDefinition, message)

/**
 * Checks the stored shape of a `rules` object: known keys only, each of its type, text bounded.
 * What the rules mean for the attribute's type is {@link checkRules}'s job.
 *
 * @example
 * checkRulesShape({ required: 'yes' }).ok // false
 */
export function checkRulesShape(value: unknown): CheckResult {
  if (!isRecord(value)) return invalid('rules must be an object')
  for (const key of Object.keys(value)) {
    if (!(RULE_KEYS as readonly string[]).includes(key)) return invalid(`no rule "${key}"`)
  }
  const { required, pattern, min, max, decimals, help } = value
  const textOrNull = (v: unknown, limit: number): boolean =>
    v === undefined || v === null || (typeof v === 'string' && v.length <= limit)
  if (required !== undefined && typeof required !== 'boolean') {
    return invalid('required must be true or false')
  }
  if (!textOrNull(pattern, MAX_PATTERN_LENGTH)) {
    return invalid(`the pattern must be text of at most ${MAX_PATTERN_LENGTH} characters`)
  }
  if (!textOrNull(min, 40) || !textOrNull(max, 40)) return invalid('min and max must be values')
  if (!textOrNull(value.default, 10_000)) return invalid('the default must be a value')
  if (
    decimals !== undefined &&
    decimals !== null &&
    !(Number.isInteger(decimals) && (decimals as number) >= 0 && (decimals as number) <= 6)
  ) {
    return invalid(`decimals must be 0 to ${MAX_DECIMALS}`)
  }
  if (help !== undefined && !(typeof help === 'string' && help.length <= MAX_HELP_LENGTH)) {
    return invalid(`the help text is at most ${MAX_HELP_LENGTH} characters`)
  }
  return OK
}

/**
 * Reads a stored `rules` value, forgivingly: anything malformed reads as no rule (the authority
 * refuses malformed rules with {@link checkRulesShape} before they are stored).
 *
 * @example
 * readRules(undefined) === DEFAULT_RULES // true
 */
export function readRules(value: unknown): AttributeRules {
  if (!isRecord(value) || !checkRulesShape(value).ok) return DEFAULT_RULES
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null)
  return Object.freeze({
    required: value.required === true,
    pattern: text(value.pattern),
    min: text(value.min),
    max: text(value.max),
    decimals: typeof value.decimals === 'number' ? value.decimals : null,
    default: text(value.default),
    help: text(value.help) ?? '',
  })
}

/**
 * `base` with the rules `patch` sets (a key given as undefined is left as it was; null removes
 * a bound, pattern, decimals or default).
 *
 * @example
 * mergeRules(def.rules, { max: null, required: true })
 */
export function mergeRules(base: AttributeRules, patch: Partial<AttributeRules>): AttributeRules {
  const merged: Record<string, unknown> = { ...base }
  for (const key of RULE_KEYS) {
    if (patch[key] !== undefined) merged[key] = patch[key]
  }
  return Object.freeze(merged as unknown as AttributeRules)
}

/** The rules as stored: keys with their default value left out. */
export function rulesToJson(rules: AttributeRules): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of RULE_KEYS) {
    if (rules[key] !== DEFAULT_RULES[key]) out[key] = rules[key]
  }
  return out
}

/** True when the rules are the default ones (nothing to store). */
export const isDefaultRules = (rules: AttributeRules): boolean =>
  Object.keys(rulesToJson(rules)).length === 0

/**
 * Checks that a pattern compiles (as a Unicode regular expression) and cannot take exponential
 * time: no back-references and no repeated group that itself repeats or alternates, such as
 * `(a+)+` or `(a|aa)*`. Conservative: a few harmless patterns are refused too.
 *
 * @example
 * checkPattern('^[A-Z]{2}-[0-9]{4}$').ok // true
 * checkPattern('(a+)+$').ok // false
 */
export function checkPattern(pattern: string): CheckResult {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    return invalid(`a pattern is 1 to ${MAX_PATTERN_LENGTH} characters`)
  }
  try {
    new RegExp(pattern, 'u')
  } catch {
    return invalid('the pattern is not a valid regular expression')
  }
  // A group's flags: does it contain a repetition, an alternation?
  const stack: { repeats: boolean; alternates: boolean }[] = [{ repeats: false, alternates: false }]
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    const top = stack[stack.length - 1]!
    if (c === '\\') {
      const next = pattern[i + 1] ?? ''
      if (/[1-9k]/.test(next)) return invalid('a pattern may not use back-references')
      i++
      continue
    }
    if (inClass) {
      if (c === ']') inClass = false
      continue
    }
    if (c === '[') inClass = true
    else if (c === '(') stack.push({ repeats: false, alternates: false })
    else if (c === '|') top.alternates = true
    else if (c === '*' || c === '+' || c === '{') top.repeats = true
    else if (c === ')' && stack.length > 1) {
      const group = stack.pop()!
      const parent = stack[stack.length - 1]!
      const next = pattern[i + 1]
      const repeated = next === '*' || next === '+' || next === '{'
      if (repeated && (group.repeats || group.alternates)) {
        return invalid(
          'a repeated group may not itself repeat or alternate (matching could take forever)',
        )
      }
      if (group.repeats) parent.repeats = true
    }
  }
  return OK
}

// Compiled patterns, one per rules object: definitions (and so their rules) are cached by the
// schema reader until the schema changes, so each pattern compiles once per schema version.
const compiled = new WeakMap<AttributeRules, RegExp | null>()

/**
 * The compiled pattern of `rules`, or null without one (or with one that does not compile, which
 * validation refuses before it is stored).
 *
 * @example
 * patternOf(def.rules)?.test('AB-1234')
 */
export function patternOf(rules: AttributeRules): RegExp | null {
  if (rules.pattern === null) return null
  let regex = compiled.get(rules)
  if (regex === undefined) {
    try {
      regex = new RegExp(rules.pattern, 'u')
    } catch {
      regex = null
    }
    compiled.set(rules, regex)
  }
  return regex
}

/** Whether `value` passes the range and decimals rules of a number or date attribute. */
export function checkRange(
  type: AttributeType,
  rules: AttributeRules,
  value: string,
  label: string,
): CheckResult {
  if (type === 'number' && rules.decimals !== null) {
    const dot = value.indexOf('.')
    const decimals = dot < 0 ? 0 : value.length - dot - 1
    if (decimals > rules.decimals) {
      return refuse(
        ErrorCodes.OutOfRange,
        rules.decimals === 0
          ? `${label} is a whole number`
          : `${label} has at most ${rules.decimals} decimals`,
      )
    }
  }
  if (rules.min !== null && compareValues(type, value, rules.min) < 0) {
    return refuse(ErrorCodes.OutOfRange, `${label} is at least ${rules.min}`)
  }
  if (rules.max !== null && compareValues(type, value, rules.max) > 0) {
    return refuse(ErrorCodes.OutOfRange, `${label} is at most ${rules.max}`)
  }
  return OK
}

/**
 * Checks what the rules mean for an attribute of `type` (the default is checked against the
 * whole definition by validation): a pattern only on text, min/max only on numbers and dates and
 * in that type's stored form, min not above max, decimals only on numbers.
 *
 * @example
 * checkRules('number', { ...DEFAULT_RULES, min: '10', max: '1' }).ok // false
 */
export function checkRules(type: AttributeType, rules: AttributeRules): CheckResult {
  if (rules.pattern !== null) {
    if (type !== 'text') return invalid('only text attributes have a pattern')
    const pattern = checkPattern(rules.pattern)
    if (!pattern.ok) return pattern
  }
  if (rules.decimals !== null && type !== 'number') {
    return invalid('only number attributes have decimals')
  }
  if (rules.min !== null || rules.max !== null) {
    if (!isRangeType(type)) return invalid('only numbers and dates have a minimum or maximum')
    const canonical = type === 'number' ? isCanonicalNumber : isCanonicalDate
    const what = type === 'number' ? 'a number such as 12.5' : 'a date such as 2024-12-31'
    for (const bound of [rules.min, rules.max]) {
      if (bound !== null && !canonical(bound)) {
        return invalid(`"${bound}" is not ${what}`)
      }
    }
    if (rules.min !== null && rules.max !== null && compareValues(type, rules.min, rules.max) > 0) {
      return invalid(`the minimum ${rules.min} is above the maximum ${rules.max}`)
    }
  }
  if (rules.help.length > MAX_HELP_LENGTH) {
    return invalid(`the help text is at most ${MAX_HELP_LENGTH} characters`)
  }
  return OK
}
