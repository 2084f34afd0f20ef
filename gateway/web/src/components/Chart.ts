// ECharts through vue-echarts, with only the parts the portal draws (tree-shaken).
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { BarChart, LineChart, MapChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components'
import VChart from 'vue-echarts'

use([CanvasRenderer, BarChart, LineChart, MapChart, PieChart, GridComponent, LegendComponent, TooltipComponent, TitleComponent, VisualMapComponent])

export default VChart
