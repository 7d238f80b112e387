// The expression evaluators: expr-lang (Argo `{{=...}}`, dflow expressions)
// and govaluate-style `when` strings. Hand-written, no eval.
export { parseExpr, type Node } from "./parser.js";
export { evaluate } from "./evaluate.js";
export { checkWhenSyntax, evaluateWhen, isTruthy } from "./when.js";
