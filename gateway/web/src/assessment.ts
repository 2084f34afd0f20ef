// The assessment screen's figures: a scheme's full score, the ranking chart and the tenant's
// own place in a ranking.
import type { AssessmentResult, Scheme } from './api/modules'

type Indicator = Scheme['indicators'][number]

/** The most a unit can score: the first-level indicators' points (100 by the rules). */
export function fullScore(scheme: { indicators: readonly (Partial<Indicator> & Pick<Indicator, 'weight'>)[] } | null | undefined): number {
  const sum = (scheme?.indicators ?? []).reduce((s, i) => s + (Number(i.weight) || 0), 0)
  return sum > 0 ? Math.round(sum * 100) / 100 : 100
}

/** Bars on a fixed 0..full-score axis, best first: one unit with 12 points is a short bar,
 * not a full one, and two schemes' charts read the same way. */
export function rankingOption(results: AssessmentResult[], full: number) {
  const rows = [...results].sort((a, b) => a.rank - b.rank || b.total - a.total)
  return {
    animation: false, // the bars are the figures: drawn at once, not grown in
    grid: { left: 8, right: 48, top: 24, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', min: 0, max: full, name: '得分', nameGap: 8 },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => `${r.rank}. ${r.name}`) },
    series: [
      {
        type: 'bar',
        name: '总分',
        barMaxWidth: 22,
        data: rows.map((r) => ({ value: Math.round(r.total * 100) / 100, itemStyle: { color: r.honoured ? '#e6a23c' : '#409eff' } })),
        label: { show: true, position: 'right' },
      },
    ],
  }
}

/** Height for a horizontal bar chart of n units (readable labels, bounded). */
export function chartHeight(n: number): number {
  return Math.min(Math.max(n, 3) * 30 + 48, 900)
}

/** The signed-in tenant's own line of a ranking: its own row, or for a unit below a ranked
 * one (a county in a city's row) the one row whose indicator scores the API sent it. The
 * scheme's owner ranks others and has no line. */
export function ownResult(results: AssessmentResult[], tenantId: string, isOwner: boolean): AssessmentResult | null {
  const mine = results.find((r) => r.tenant_id === tenantId)
  if (mine) return mine
  if (isOwner) return null
  const detailed = results.filter((r) => r.indicators.length > 0)
  return detailed.length === 1 ? detailed[0] : null
}
