import { describe, expect, it } from 'vitest'
import { consentState, partnerName } from '../../src/consents'

describe('tenant consents list', () => {
  it('says whether a consent is live, revoked or expired', () => {
    expect(consentState({ live: true, revoked_at: '' })).toEqual({ label: '有效', type: 'success' })
    expect(consentState({ live: false, revoked_at: '2026-12-01T10:00:00+08:00' }).label).toBe('已撤回')
    expect(consentState({ live: false, revoked_at: '' }).label).toBe('已到期')
  })

  it('names a partner the unit registered and shows the client id of another', () => {
    const partners = [{ client_id: 'bank-1', name: '邮储银行信阳分行' }]
    expect(partnerName('bank-1', partners)).toBe('邮储银行信阳分行')
    expect(partnerName('bank-2', partners)).toBe('bank-2')
  })
})
