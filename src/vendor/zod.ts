// zod, as dflow-ts's own modules and its users (`import { z } from "dflow-ts"`)
// get it. As source (tests, tsx) this is zod itself. In dist/, `npm run
// build` replaces the compiled file (build.ts): zod's ESM tree is about 160
// modules and 850 kB, 95 ms of every `dflow run`'s start-up on this kind of
// machine (a third of it); the replacement runs one file of it from a V8 code
// cache (code-cache.ts) in about 25 ms. Same zod, same exports: only the way
// it is loaded differs.
export * from "zod";
export { default } from "zod";
