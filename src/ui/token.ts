// The token of `dflow ui` / `dflow server`, compared for every request of both APIs.
import crypto from "node:crypto";

/** Whether `given` is the token, in time that does not depend on where they differ. */
export function sameToken(given: string, token: string): boolean {
  // Hashes first: timingSafeEqual wants equal lengths, and the length of the token is no secret worth a branch.
  const a = crypto.createHash("sha256").update(given).digest();
  const b = crypto.createHash("sha256").update(token).digest();
  return crypto.timingSafeEqual(a, b);
}
