import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// The build goes into the host, which embeds it (host/ui). In development,
// `npm run dev` proxies the API to a running host (make run).
export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: '../host/ui/dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
      '/dev-idp': { target: 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.spec.ts'],
  },
})
