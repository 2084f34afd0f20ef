// A city's map: each county region matched to its association (by division code, else by
// name) and coloured by the association's certified talents.
import type { Region } from './cities'

export interface CountyRow {
  name: string // the map region's name, which ECharts matches
  tenant_id: string
  unit: string // the association's name, for the tooltip
  value: number
}

const short = (s: string) => s.replace(/(科学技术协会|科协)$/, '')

/** One row per association that has a region on the map; ``totals[i]`` belongs to
 * ``tenants[i]``. An association without a region (a society, a development zone the 2018
 * map does not draw) is left out of the map, never put on another region. */
export function countyRows(regions: readonly Region[], tenants: readonly { id: string; code: string; name: string }[], totals: readonly number[]): CountyRow[] {
  const byCode = new Map(regions.map((r) => [r.code, r]))
  const out: CountyRow[] = []
  const used = new Set<string>()
  tenants.forEach((t, i) => {
    const region = byCode.get(t.code) ?? regions.find((r) => r.name === short(t.name) || short(t.name).startsWith(r.name))
    if (!region || used.has(region.name)) return
    used.add(region.name)
    out.push({ name: region.name, tenant_id: t.id, unit: t.name, value: totals[i] ?? 0 })
  })
  return out
}
