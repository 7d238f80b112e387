// The page of `dflow ui` and `dflow report`: one script and one stylesheet
// (dist/ui/assets/ui.js, ui.css) with fixed names, so that the server serves
// them as they are and `dflow report` can inline them into one HTML file.
// JSX through esbuild (preact's automatic runtime); no plugin needed.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const outDir = fileURLToPath(new URL("../../../dist/ui", import.meta.url));

export default defineConfig({
  root: here,
  base: "./",
  publicDir: false,
  logLevel: "warn",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    modulePreload: false,
    sourcemap: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    rollupOptions: {
      output: {
        inlineDynamicImports: true,
        entryFileNames: "assets/ui.js",
        chunkFileNames: "assets/ui.js",
        assetFileNames: (info) => (info.names?.some((n) => n.endsWith(".css")) ? "assets/ui.css" : "assets/[name][extname]"),
      },
    },
  },
});
