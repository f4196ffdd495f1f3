import { describe, expect, it } from 'vitest'
import { normaliseMatchValue, normalisePhone } from '../src/linking/normalise'

describe('matching value normalisation', () => {
  it('trims and lowercases email-like values so spellings of one address match', () => {
    expect(normaliseMatchValue('  Ana@Example.ORG ')).toBe('ana@example.org')
    expect(normaliseMatchValue('ana@example.org')).toBe('ana@example.org')
  })

  it('keeps the case of values that are not email addresses', () => {
    expect(normaliseMatchValue(' ACME-1 ')).toBe('ACME-1')
    expect(normaliseMatchValue('acme-1')).not.toBe(normaliseMatchValue('ACME-1'))
  })

  it('reads empty, blank and non-string values as matching nothing', () => {
    expect(normaliseMatchValue('')).toBeNull()
    expect(normaliseMatchValue(' \t\n ')).toBeNull()
    expect(normaliseMatchValue(null)).toBeNull()
    expect(normaliseMatchValue(42)).toBeNull()
  })

  it('matches composed and decomposed accents as one value', () => {
    expect(normaliseMatchValue('Jose\u0301')).toBe(normaliseMatchValue('Jos\u00e9'))
  })

  it('writes international phone numbers in E.164 whatever the separators', () => {
    expect(normalisePhone('+1 (415) 555-0100')).toBe('+14155550100')
    expect(normalisePhone('+44 20 7946 0018')).toBe('+442079460018')
    expect(normalisePhone('0044 20 7946 0018')).toBe('+442079460018')
    expect(normalisePhone('+44 (0)20 7946 0018')).toBe('+442079460018')
    expect(normalisePhone('+33.1.23.45.67.89')).toBe('+33123456789')
  })

  it('normalises international formats of many countries to one E.164 number', () => {
    const same = (spellings: string[], e164: string) => {
      for (const spelling of spellings) expect(normalisePhone(spelling)).toBe(e164)
    }
    same(['+49 30 1234567', '+49 (0)30 1234567', '0049 30 123 4567'], '+49301234567')
    same(['+81 3-1234-5678', '+81 (0)3 1234 5678', '00 81 3 1234 5678'], '+81312345678')
    same(['+55 11 91234-5678', '+55 (11) 91234 5678'], '+5511912345678')
    same(['+91 98765 43210', '+91-98765-43210'], '+919876543210')
    same(['+7 (495) 123-45-67', '007 495 123 45 67'], '+74951234567')
    same(['+353 1 234 5678', '+353 (0)1 234 5678'], '+35312345678')
    // a trunk zero written after the country code is dropped, as dialling does
    same(['+44 020 7946 0018'], '+442079460018')
  })

  it('refuses an international number too short for its country, or of no country', () => {
    expect(normalisePhone('+1 415 555')).toBeNull()
    expect(normalisePhone('+999 123 4567')).toBeNull() // 999 is no country code
    expect(normaliseMatchValue('+1 415 555')).toBe('+1 415 555') // kept as text
  })

  it('reduces a national number to its digits, never to an international one', () => {
    expect(normalisePhone('020 7946 0018')).toBe('02079460018')
    expect(normalisePhone('(020) 7946-0018')).toBe('02079460018')
    expect(normaliseMatchValue('020 7946 0018')).not.toBe(normaliseMatchValue('+44 20 7946 0018'))
  })

  it('refuses what only looks like a phone number', () => {
    expect(normalisePhone('12-34')).toBeNull() // too short to be a number
    expect(normalisePhone('+1234567890123456')).toBeNull() // longer than E.164 allows
    expect(normalisePhone('+0 20 7946 0018')).toBeNull() // no country code starts with 0
    expect(normalisePhone('1) 415 555 0100')).toBeNull() // unbalanced parenthesis
    expect(normalisePhone('415-555-01OO')).toBeNull() // letters
    expect(normaliseMatchValue(' 415-555-01OO ')).toBe('415-555-01OO') // kept as text
  })
})
