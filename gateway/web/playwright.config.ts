import { defineConfig } from '@playwright/test'

// Runs against a running stack (KEPU_BASE_URL), in Debian's Chromium: no browser is downloaded.
export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 300_000,
  expect: { timeout: 60_000 },
  workers: 1,
  retries: 0,
  outputDir: '../../test-output/playwright',
  use: {
    baseURL: process.env.KEPU_BASE_URL,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    },
  },
})
