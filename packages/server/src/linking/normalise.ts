/**
 * Normalisation of matching-attribute values. Two contacts link when their values of the
 * workspace's matching attribute are equal after this normalisation, so it decides which
 * spellings count as "the same person": ` Ana@Example.org` and `ana@example.org` do, and so do
 * `+44 (0)20 7946 0018` and `0044 20 7946 0018`.
 */

import { createRequire } from 'node:module'
import type * as PhoneNumbers from 'libphonenumber-js'

/** Longest national number kept as digits (E.164's limit, as no country code is written). */
const NATIONAL_MAX_DIGITS = 15
/** Shortest number worth treating as a phone number (shorter ones are codes, not numbers). */
const PHONE_MIN_DIGITS = 7

let phoneNumbers: typeof PhoneNumbers | null = null

/**
 * libphonenumber-js, loaded the first time an international number is normalised: its metadata
 * is a hundred-odd modules that a server starting up would otherwise load before listening.
 */
function loadPhoneNumbers(): typeof PhoneNumbers {
  phoneNumbers ??= createRequire(import.meta.url)('libphonenumber-js') as typeof PhoneNumbers
  return phoneNumbers
}

/** Characters people put in phone numbers besides digits. */
const PHONE_SHAPE = /^\+?[\d\s().\-/]+$/
/** One `@` with something on either side and no whitespace: how email addresses look. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/

/**
 * Normalises a phone number to E.164 when it is written with its country code (`+44 20 7946
 * 0018`, `0044 20 7946 0018`, `+44 (0)20 7946 0018`, `+44 020 7946 0018`). The country's
 * numbering rules (trunk prefixes, lengths) come from libphonenumber-js, Google's
 * libphonenumber metadata, kept up to date upstream instead of by hand. A national number
 * (`020 7946 0018`) names no country, so it is reduced to its digits: it matches the same
 * national number however it is spelled, never an international one. Null when `value` does
 * not look like a phone number, or has a length no number of its country can have.
 *
 * @example
 * normalisePhone('+1 (415) 555-0100') // '+14155550100'
 * normalisePhone('00 33 1 23 45 67 89') // '+33123456789'
 * normalisePhone('hello') // null
 */
export function normalisePhone(value: string): string | null {
  const v = value.trim()
  // The library finds numbers inside any text; matching wants values that are only a number.
  if (!PHONE_SHAPE.test(v)) return null
  // Parentheses must balance, or this is some other notation ("1) 2" is not a number).
  if ((v.match(/\(/g) ?? []).length !== (v.match(/\)/g) ?? []).length) return null
  // "00" is the international call prefix across most of the world.
  const international = v.startsWith('+') ? v : /^00\s*[1-9]/.test(v) ? `+${v.slice(2)}` : null
  if (international !== null) {
    const number = loadPhoneNumbers().parsePhoneNumberFromString(international)
    return number !== undefined && number.isPossible() ? number.number : null
  }
  const digits = v.replace(/\D/g, '')
  if (digits.length < PHONE_MIN_DIGITS || digits.length > NATIONAL_MAX_DIGITS) return null
  return digits
}

/**
 * True when `value` looks like an email address (one `@`, no whitespace, a dot-free local part
 * is fine). Such values compare case-insensitively.
 */
export const isEmailLike = (value: string): boolean => EMAIL_SHAPE.test(value)

/**
 * Normalises a matching value: trimmed (and Unicode NFC, so composed and decomposed accents
 * match); email-like values lowercased; phone numbers in E.164 where the country code is
 * written. Anything else keeps its case: `ACME-1` and `acme-1` are different customer numbers.
 * Empty and non-string values match nothing (null).
 *
 * @example
 * normaliseMatchValue('  Ana@Example.ORG ') // 'ana@example.org'
 * normaliseMatchValue('+44 (0)20 7946 0018') // '+442079460018'
 * normaliseMatchValue('   ') // null
 */
export function normaliseMatchValue(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const v = value.normalize('NFC').trim()
  if (v.length === 0) return null
  if (isEmailLike(v)) return v.toLowerCase()
  return normalisePhone(v) ?? v
}
