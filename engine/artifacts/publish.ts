// What an exported workflow reads from this machine (upload_artifact), put
// where its pods read it, as dflow's default mode uploads it: under its key
// (`upload/<uuid>/<dir>`) in the local Argo runner's repository (which
// `dflow run wf.yaml` and `dflow server` read), and in the S3 bucket that
// dflow's environment names (DFLOW_S3_ENDPOINT…, the cluster's repository)
// when it names one.
import path from "node:path";
import { DflowConfigError } from "../../src/errors.js";
import { artifactRepository } from "../argo/run.js";
import { putS3Artifact } from "../argo/remote.js";
import { copyTree } from "./place.js";

/** dflow's S3 settings (its config.py reads the same variables), or null without an endpoint. */
function s3FromEnv(env: NodeJS.ProcessEnv): { endpoint: string; bucket: string; secure: boolean; accessKey: string; secretKey: string } | null {
  if (!env.DFLOW_S3_ENDPOINT) return null;
  return {
    endpoint: env.DFLOW_S3_ENDPOINT,
    bucket: env.DFLOW_S3_BUCKET_NAME || "my-bucket",
    secure: /^(1|true|yes)$/i.test(env.DFLOW_S3_SECURE ?? ""),
    accessKey: env.DFLOW_S3_ACCESS_KEY || "admin",
    secretKey: env.DFLOW_S3_SECRET_KEY || "password",
  };
}

/** Where publishUploads put the uploads: their keys, the local repository, and the bucket when there was one. */
export interface Published {
  keys: string[];
  local: string;
  s3?: { bucket: string; endpoint: string };
}

/** Put each upload in the repositories. */
export async function publishUploads(uploads: Array<{ key: string; path: string }>, root: string, env = process.env): Promise<Published | null> {
  if (!uploads.length) return null;
  const repo = artifactRepository(root);
  for (const u of uploads) await copyTree(u.path, path.join(repo, u.key), { files: "link", symlinks: "follow" });
  const s3 = s3FromEnv(env);
  if (s3) {
    for (const u of uploads) {
      try {
        await putS3Artifact({ endpoint: s3.endpoint, bucket: s3.bucket, key: u.key, insecure: !s3.secure }, { accessKey: s3.accessKey, secretKey: s3.secretKey }, path.join(repo, u.key), path.basename(u.key), { none: {} }, `upload ${u.key}`);
      } catch (e) {
        throw new DflowConfigError(`cannot upload ${u.key} (a file of this machine: upload_artifact, or a reused step's artifact) to the S3 bucket ${s3.bucket} at DFLOW_S3_ENDPOINT=${s3.endpoint}: ${(e as Error).message}`);
      }
    }
  }
  return { keys: uploads.map((u) => u.key), local: repo, ...(s3 ? { s3: { bucket: s3.bucket, endpoint: s3.endpoint } } : {}) };
}
