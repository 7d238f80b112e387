// A node module hook (module.register) that loads the user's TypeScript files
// as ES modules whatever the nearest package.json says. tsx alone follows the
// package.json: in a project made by `npm init -y` ("type": "commonjs") it
// compiles a workflow script to CommonJS, where the top-level await of every
// workflow example is a syntax error. dflow-ts is ESM, its examples and README
// are ESM, so its TypeScript is ESM. Packages (node_modules) and explicit
// .cts files keep their own format.
import { register } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

interface Resolved {
  url: string;
  format?: string | null;
}
type NextResolve = (specifier: string, context: unknown) => Promise<Resolved>;

export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<Resolved> {
  const r = await nextResolve(specifier, context);
  if ((r.format !== "commonjs" && r.format !== "commonjs-typescript") || !r.url.startsWith("file:") || r.url.includes("/node_modules/")) return r;
  // tsx marks a CommonJS file imported from ESM with a query inside the path
  // (".../ops.ts%3Ftsx-commonjs-export-preparse=1?..."): the file is what comes before it.
  const u = new URL(r.url);
  const file = fileURLToPath(new URL(`file://${u.pathname.split("%3F")[0]}`));
  if (!/\.(ts|tsx)$/.test(file)) return r;
  const url = pathToFileURL(file);
  for (const [k, v] of u.searchParams) if (!k.startsWith("tsx-commonjs")) url.searchParams.append(k, v);
  return { ...r, url: url.href, format: "module" };
}

/** Install the hook; call it after tsx's register() so that it sees tsx's answer. */
export function loadTypeScriptAsEsm(): void {
  register(new URL(import.meta.url));
}
