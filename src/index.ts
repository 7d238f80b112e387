// dflow-ts: dflow's programming model for TypeScript, run locally in
// dflow's debug-mode directory layout. The one public entry point.
export { config, set_config, reset_config, boolize, type Config } from "./config.js";
export { DflowError, DflowConfigError, OPFailure, InfrastructureError, TransientError, FatalError, type ErrorContext } from "./errors.js";
export { InputParameter, InputArtifact, OutputParameter, OutputArtifact, Inputs, Outputs, StepOutputParameter, StepOutputArtifact, type ParamType } from "./io.js";
export { OP, OPIOSign, Artifact, Parameter, BigParameter, ArtifactSign, ParameterSign, type OPIO, type OPClass, type ArtifactKind, type SignInput } from "./op.js";
export { ScriptOPTemplate, ShellOPTemplate, PythonScriptOPTemplate, TsOPTemplate, OPTemplate, type RetryStrategy } from "./templates.js";
export { Step, Task, type StepOptions, type Executor } from "./step.js";
/** Jobs submitted and scheduler commands issued per cluster since the engine started. */
export { clusterStats as dispatcher_stats } from "../engine/executors/remote-lazy.js";
export { DispatcherExecutor, SlurmRemoteExecutor, type DispatcherExecutorOptions, type SlurmRemoteExecutorOptions, type RemoteConnectionOptions } from "./dispatcher.js";
export { Steps, DAG } from "./steps.js";
export { Workflow, type WorkflowOptions, type SubmitResult } from "./workflow.js";
export { WorkflowValidationError, type Problem } from "./validate.js";
export { validateOptions } from "./option-check.js";
export { MAX_RETRIES } from "./options.js";
export { ArgoStep, type StepFilter } from "./query.js";
export { instanceOf, registerType } from "./types.js";
export { isMain } from "./main.js";
export { upload_artifact, download_artifact, LocalArtifact } from "../engine/artifacts/upload.js";
export { S3Artifact } from "./s3.js";
export { Slices, type SlicesOptions } from "./slices.js";
export { ArgoVar, ArgoSequence, expr, if_expression, argo_len, argo_range, argo_sequence, argo_sum, argo_concat, argo_enumerate } from "./expr.js";
export { z } from "./vendor/zod.js";
export { catalog_of_artifact, path_list_of_artifact, path_object_of_artifact, assemble_path_object, convert_dflow_list, copy_artifact, flatten, randstr, set_directory, run_command, type RunCommandOptions, type CatalogItem } from "./utils.js";
