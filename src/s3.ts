/**
 * dflow's S3Artifact(key=...). Locally the key is a path: absolute as is,
 * relative under the artifact root (<debug_workdir>/<debug_artifact_dir>).
 */
export class S3Artifact {
  readonly key: string;
  constructor(opts: { key: string } | string) {
    this.key = typeof opts === "string" ? opts : opts.key;
  }
}
