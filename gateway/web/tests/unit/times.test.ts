import { describe, expect, it } from 'vitest'
import { beijing, beijingMonth } from '../../src/times'

describe('beijing', () => {
  it('shows a UTC instant eight hours later, in Beijing time', () => {
    expect(beijing('2026-12-01T17:30:00Z')).toBe('2026-12-02 01:30')
    expect(beijing('2026-12-01T09:05:00+08:00')).toBe('2026-12-01 09:05')
  })
  it('keeps a calendar date as it is and shows nothing for an empty value', () => {
    expect(beijing('2026-12-31')).toBe('2026-12-31')
    expect(beijing('')).toBe('')
    expect(beijing(null)).toBe('')
    expect(beijing('not a time')).toBe('')
  })
  it('gives the date alone when asked', () => {
    expect(beijing('2026-12-31T16:00:00Z', false)).toBe('2027-01-01')
  })
  it('takes the reporting month in Beijing time', () => {
    expect(beijingMonth(new Date('2026-11-30T16:30:00Z'))).toBe('2026-12')
  })
})
