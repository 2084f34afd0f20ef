// The province map files are UMD modules that call require("echarts").registerMap. Bare
// "echarts" is aliased here (vite.config.ts), so they register on the portal's own tree-shaken
// ECharts instead of pulling the package's bundled ECharts 3 or the whole of ECharts 5.
export { registerMap } from 'echarts/core'
