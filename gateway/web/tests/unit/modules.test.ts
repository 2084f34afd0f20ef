import { describe, expect, it } from 'vitest'
import type { AssessmentResult } from '../../src/api/modules'
import { chartHeight, fullScore, ownResult, rankingOption } from '../../src/assessment'
import { byDateDesc, pageOf } from '../../src/paging'
import { projectActions, projectQuery, reviewNeedsReason, yuan } from '../../src/projects'

const result = (tenant_id: string, rank: number, total: number, indicators: AssessmentResult['indicators'] = []): AssessmentResult => ({
  tenant_id, name: `单位${tenant_id}`, kind: 'city', total, rank, honoured: rank === 1, indicators,
})

describe('projects', () => {
  it('shows the buttons the service allows, in its order, and nothing it did not send', () => {
    expect(projectActions(['edit', 'submit'])).toEqual(['edit', 'submit'])
    expect(projectActions(['review', 'some_future_step'])).toEqual(['review'])
    expect(projectActions(undefined)).toEqual([])
  })

  it('asks a reason for a refusal or a return, not for a pass', () => {
    expect(reviewNeedsReason('fail')).toBe(true)
    expect(reviewNeedsReason('return')).toBe(true)
    expect(reviewNeedsReason('pass')).toBe(false)
  })

  it('pages on the server and turns the scope into its flags', () => {
    const f = { q: ' 科普园 ', status: 'submitted', category: '', scope: 'awaiting' as const }
    expect(projectQuery(f, 3, 20)).toEqual({ limit: 20, offset: 40, q: '科普园', status: 'submitted', awaiting_me: true, subtree: true })
    expect(projectQuery({ q: '', status: '', category: 'activity', scope: 'own' }, 1, 50)).toEqual({ limit: 50, offset: 0, category: 'activity' })
  })

  it('writes a budget in yuan and says when none was given', () => {
    expect(yuan('123456.5')).toBe('¥123,456.50')
    expect(yuan('')).toBe('未填')
  })
})

describe('assessment', () => {
  it('scales the ranking to the full score, so one unit with 30 points is not a full bar', () => {
    const opt = rankingOption([result('a', 1, 30)], fullScore({ indicators: [{ code: '1', name: 'x', weight: 60 }, { code: '2', name: 'y', weight: 40 }] }))
    expect(opt.xAxis.max).toBe(100)
    expect(opt.xAxis.min).toBe(0)
    expect(opt.series[0].data[0].value).toBe(30)
  })

  it('orders bars by rank and falls back to 100 points without indicators', () => {
    const opt = rankingOption([result('b', 2, 50), result('a', 1, 80.456)], fullScore(null))
    expect(opt.yAxis.data).toEqual(['1. 单位a', '2. 单位b'])
    expect(opt.series[0].data.map((d) => d.value)).toEqual([80.46, 50])
    expect(opt.xAxis.max).toBe(100)
    expect(chartHeight(1)).toBeLessThan(chartHeight(20))
  })

  it("finds the tenant's own line: its row, or for a county the city row it was sent details of", () => {
    const rows = [result('a', 1, 80), result('b', 2, 50, [{ code: '1', name: 'x', weight: 10, score: 5, actual: 1, target: 2, met: false, evidence: '', entered: false, subs: [] }])]
    expect(ownResult(rows, 'a', false)?.rank).toBe(1)
    expect(ownResult(rows, 'county-under-b', false)?.tenant_id).toBe('b')
    expect(ownResult(rows, 'province', true)).toBeNull()
  })
})

describe('activity paging', () => {
  it('shows the latest first and pages without losing rows', () => {
    const rows = Array.from({ length: 45 }, (_, i) => ({ date: `2026-11-${String((i % 28) + 1).padStart(2, '0')}`, created_at: String(i) }))
    const sorted = byDateDesc(rows)
    expect(sorted[0].date).toBe('2026-11-28')
    expect(pageOf(sorted, 1, 20)).toHaveLength(20)
    expect(pageOf(sorted, 3, 20)).toHaveLength(5)
    expect(new Set([1, 2, 3].flatMap((p) => pageOf(sorted, p, 20))).size).toBe(45)
  })
})
