// `dflow ui [--port 2746] [--host 127.0.0.1]`: serve the web UI of the
// workflows under the work directory (DFLOW_DEBUG_WORKDIR, default .) until
// interrupted; prints the URL to open, with its token (src/ui/server.ts).
import type { Command } from "commander";
import { CliError, command } from "./command.js";

export function register(program: Command): void {
  command(program, "ui")
    .alias("server")
    .description("serve a web UI of the workflows under the work directory (DFLOW_DEBUG_WORKDIR, default .): list, graph, timeline, steps, logs, live; and the Argo Server API (`dflow server`): the argo CLI, Hera and dflow's Python client run Argo workflows here")
    .option("-p, --port <port>", "port to listen on (0: any free port)", "2746")
    .option("--host <host>", "address to listen on; anything but loopback can be reached from other machines", "127.0.0.1")
    .option("--no-token", "serve without a token (loopback only; anyone on this machine can then use it)")
    .action(async (opts: { port: string; host: string; token: boolean }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be a port number (0 to 65535), got ${JSON.stringify(opts.port)}`);
      const { workRoot } = await import("./common.js");
      const { artifactRoot } = await import("../../engine/artifacts/upload.js");
      const { startUiServer, isLoopback } = await import("../ui/server.js");
      const { ApiError } = await import("../../engine/api/workflows.js");
      let server;
      try {
        server = await startUiServer({ root: workRoot(), artifactRoot: artifactRoot(), port, host: opts.host, token: opts.token ? undefined : null });
      } catch (e) {
        if (e instanceof ApiError) throw new CliError(e.message); // a refused option (--no-token off loopback)
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE") throw new CliError(`port ${port} on ${opts.host} is in use (another \`dflow ui\`?): pass --port <another>, or --port 0 for any free one`, 1);
        if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new CliError(`cannot listen on ${opts.host}: not an address of this machine`, 1);
        throw e;
      }
      process.stdout.write(`dflow ui: serving the workflows in ${workRoot()}\nOpen ${server.openUrl}\n`);
      const argoHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
      process.stdout.write(`Argo Server API: ARGO_SERVER=${argoHost}:${server.port} ARGO_HTTP1=true ARGO_SECURE=false${server.token ? ` ARGO_TOKEN='Bearer ${server.token}'` : ""} argo list -n <namespace>\n`);
      // dflow's Python client (default mode) talks to three servers: Argo's, S3 (artifacts) and Kubernetes (step reuse). All three are this one.
      const http = `http://${argoHost}:${server.port}`;
      const secret = server.token ? ` DFLOW_TOKEN=${server.token} DFLOW_S3_SECRET_KEY=${server.token}` : "";
      process.stdout.write(`dflow's Python client: DFLOW_HOST=${http} DFLOW_K8S_API_SERVER=${http} DFLOW_S3_ENDPOINT=${argoHost}:${server.port}${secret} python3 <workflow.py>\n`);
      if (!isLoopback(opts.host)) process.stdout.write(`(listening on ${opts.host}: anyone who can reach it and has the token can stop and delete workflows)\n`);
      else process.stdout.write(`From another machine: ssh -L ${server.port}:127.0.0.1:${server.port} <this host>, then open the URL there\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
