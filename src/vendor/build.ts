// `npm run build` (and `prepare`) runs this after tsc: it replaces
// dist/src/vendor/zod.js, tsc's plain re-export of zod, with a module that
// runs zod from one minified CommonJS file next to it through the V8 code
// cache of code-cache.ts (why: zod.ts). Without this step dist still works,
// with zod's own ESM tree.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = await esbuild.build({
  stdin: { contents: 'export * from "zod"; export { default } from "zod";', resolveDir: here, loader: "js", sourcefile: "dflow-ts-zod.js" },
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minify: true,
  write: false,
  logLevel: "warning",
});
// One function expression: what vm.Script compiles and the code cache is for.
fs.writeFileSync(path.join(here, "zod.cjs"), `(function (module, exports, require) {${out.outputFiles[0].text}\n})`);

const names = Object.keys(await import("zod")).filter((n) => n !== "default");
// Export names may be reserved words (zod exports `function`, `null`, `enum`...): each is taken through a local.
const locals = names.map((n, i) => `const _${i} = ns[${JSON.stringify(n)}];`).join("\n");
fs.writeFileSync(
  path.join(here, "zod.js"),
  `// Written by dist/src/vendor/build.js (see src/vendor/zod.ts): zod from zod.cjs, with a V8 code cache.
// No top-level await: a CommonJS file may require("dflow-ts") (node 20.19+ loads ES modules so,
// but not a module graph with a top-level await). Without zod.cjs, zod's own CommonJS build.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { runCompiled } from "./code-cache.js";
const ns = runCompiled(fileURLToPath(new URL("./zod.cjs", import.meta.url)))?.exports ?? createRequire(import.meta.url)("zod");
${locals}
export default ns.default;
export { ${names.map((n, i) => `_${i} as ${n}`).join(", ")} };
`,
);
// tsc's source map was for tsc's file.
fs.rmSync(path.join(here, "zod.js.map"), { force: true });
