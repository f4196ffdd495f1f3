import type { AttributeType, DropdownOption } from './types'

/*
 * The stored form of every attribute type. Every value is stored as text in one canonical form
 * per type, so that each value has exactly one spelling (equal values compare equal for linking,
 * search and the CRM), everything that reads values as text (index rows, exports, CRM sync, value
 * history) keeps working, and documents written before these types existed need no migration.
 *
 *   text, long text  any text (bounded by the attribute's maxLength)
 *   dropdown         the option id
 *   number           decimal, no exponent, no leading zeros, no trailing fraction zeros: "-12.5"
 *   date             calendar date "YYYY-MM-DD" (year 0001..9999)
 *   checkbox         "true" or "false"
 *   URL              an absolute http(s) URL as entered, trimmed
 *   email            local@domain, trimmed
 *   phone            digits with an optional leading "+", 4 to 15 digits: "+14155550100"
 *   multi-select     option ids joined by commas, each at most once: "red,blue"
 */

/** The types an admin may give a custom attribute (`flag` is the VIP standard attribute's). */
export const ATTRIBUTE_TYPES: readonly AttributeType[] = [
  'text',
  'longtext',
  'dropdown',
  'multiselect',
  'number',
  'date',
  'checkbox',
  'url',
  'email',
  'phone',
]

/** Returns true when `value` is an attribute type (a custom attribute's, or `flag`). */
export const isAttributeType = (value: unknown): value is AttributeType =>
  value === 'flag' || (ATTRIBUTE_TYPES as readonly unknown[]).includes(value)

/** Types whose values are option ids. */
export const hasOptions = (type: AttributeType): boolean =>
  type === 'dropdown' || type === 'multiselect'

/** Types whose values are free text bounded by `maxLength`. */
export const isTextType = (type: AttributeType): boolean => type === 'text' || type === 'longtext'

/** Types with an order, so with min and max rules. */
export const isRangeType = (type: AttributeType): boolean => type === 'number' || type === 'date'

/** Largest magnitude of a number value: beyond it a double no longer holds every integer. */
export const MAX_NUMBER_MAGNITUDE = 1e15
/** Most digits after the decimal point a number value may have. */
export const MAX_DECIMALS = 6
/** Longest URL, email and multi-select value, in characters. */
export const MAX_URL_LENGTH = 2000
export const MAX_EMAIL_LENGTH = 254
/** Most options one multi-select value may hold. */
export const MAX_SELECTED = 100

const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/
const PHONE = /^\+?[0-9]{4,15}$/
// Unicode letters are fine on both sides (internationalised addresses); whitespace, a second
// "@" and an empty part are not, and the domain needs a dot.
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/u

/** True when `value` is a number in canonical form within {@link MAX_NUMBER_MAGNITUDE}. */
export function isCanonicalNumber(value: string): boolean {
  if (value.length > 40 || !NUMBER.test(value) || value === '-0') return false
  return Math.abs(Number(value)) < MAX_NUMBER_MAGNITUDE
}

/** Digits after the decimal point of a canonical number. */
export const decimalsOf = (value: string): number => {
  const dot = value.indexOf('.')
  return dot < 0 ? 0 : value.length - dot - 1
}

/** True when `value` is a real calendar date `YYYY-MM-DD` (year 0001 to 9999). */
export function isCanonicalDate(value: string): boolean {
  const m = DATE.exec(value)
  if (m === null) return false
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  if (year < 1 || month < 1 || month > 12 || day < 1) return false
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!
  return day <= days
}

/** True when `value` is an absolute http or https URL without spaces. */
export function isUrl(value: string): boolean {
  if (value.length > MAX_URL_LENGTH || /\s/.test(value)) return false
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0
}

/** True when `value` is an email address (a pragmatic check, not RFC 5322). */
export const isEmail = (value: string): boolean =>
  value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value)

/** True when `value` is a phone number in canonical form. */
export const isPhone = (value: string): boolean => PHONE.test(value)

/** The option ids of a multi-select value ("" holds none). */
export const selectedIds = (value: string): string[] => (value === '' ? [] : value.split(','))

/**
 * Compares two canonical values of a range type (number or date): negative, zero or positive.
 *
 * @example
 * compareValues('number', '9', '10') // < 0
 */
export function compareValues(type: AttributeType, a: string, b: string): number {
  if (type === 'number') return Number(a) - Number(b)
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Turns what a person typed into the stored form of `type`, or returns null when it cannot be
 * read as one (the caller then shows why, with `validateValue` on the raw text). Numbers accept
 * a leading "+", surrounding spaces, trailing zeros and a comma as the decimal point; phones
 * accept spaces, dots, dashes and parentheses; checkboxes accept yes/no and 1/0; dates accept
 * only `YYYY-MM-DD` (a date input gives that). Text types are returned as typed.
 *
 * @example
 * normaliseInput('number', ' +12,50 ') // '12.5'
 * normaliseInput('phone', '+1 (415) 555-0100') // '+14155550100'
 */
export function normaliseInput(type: AttributeType, input: string): string | null {
  const trimmed = input.trim()
  switch (type) {
    case 'text':
    case 'longtext':
    case 'dropdown':
      return input
    case 'multiselect':
      return trimmed
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .join(',')
    case 'number': {
      const m = /^([+-]?)([0-9]*)(?:[.,]([0-9]*))?$/.exec(trimmed)
      if (m === null || trimmed.length > 60 || !/[0-9]/.test(trimmed)) return null
      const int = m[2] === '' ? '0' : m[2]!.replace(/^0+(?=[0-9])/, '')
      const frac = (m[3] ?? '').replace(/0+$/, '')
      const body = frac === '' ? int : `${int}.${frac}`
      const value = m[1] === '-' && body !== '0' ? `-${body}` : body
      return isCanonicalNumber(value) ? value : null
    }
    case 'date':
      return isCanonicalDate(trimmed) ? trimmed : null
    case 'checkbox':
    case 'flag': {
      const lower = trimmed.toLowerCase()
      if (['true', 'yes', '1', 'on'].includes(lower)) return 'true'
      if (['false', 'no', '0', 'off'].includes(lower)) return 'false'
      return null
    }
    case 'url':
      return isUrl(trimmed) ? trimmed : null
    case 'email':
      return isEmail(trimmed) ? trimmed : null
    case 'phone': {
      const compact = trimmed.replace(/[\s().-]/g, '')
      return isPhone(compact) ? compact : null
    }
  }
}

/** What {@link formatValue} needs of a definition. */
export interface FormatDefinition {
  readonly type: AttributeType
  readonly options: readonly DropdownOption[]
}

/**
 * The display form of a stored value: option labels for dropdowns and multi-selects (joined
 * by ", "; an id that is no option shows as stored), "Yes"/"No" for checkboxes, and everything
 * else as stored (dates stay ISO `YYYY-MM-DD`, numbers keep their point: both read the same in
 * every locale and in CSV files). A malformed value shows as stored.
 *
 * @example
 * formatValue(colours, 'red,blue') // 'Red, Blue'
 * formatValue(subscribed, 'true') // 'Yes'
 */
export function formatValue(def: FormatDefinition, value: string): string {
  switch (def.type) {
    case 'dropdown':
      return def.options.find((o) => o.id === value)?.label ?? value
    case 'multiselect':
      return selectedIds(value)
        .map((id) => def.options.find((o) => o.id === id)?.label ?? id)
        .join(', ')
    case 'checkbox':
    case 'flag':
      return value === 'true' ? 'Yes' : value === 'false' ? 'No' : value
    default:
      return value
  }
}
