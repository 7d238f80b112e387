// Argo manifests in tests, written as users write them, below a shared head.

/** A Workflow's head, the spec below it as written (the rest of each manifest): manifest("name-")`  entrypoint: ...`. */
export const manifest =
  (generateName: string) =>
  (spec: TemplateStringsArray, ...values: unknown[]): string =>
    `apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: ${generateName}}\nspec:\n${String.raw({ raw: spec }, ...values)}`;
