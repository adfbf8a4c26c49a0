import { defineConfig } from 'vite';

// The node serves `dist/` embedded in its binary: file names carry a content hash (served as
// immutable), nothing is inlined (the Content-Security-Policy allows no inline script or style),
// and the same sources give the same bytes.
export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
});
