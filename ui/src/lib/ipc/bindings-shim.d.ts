// `bindings.ts` names `ErrorAction` without declaring it: `src-tauri/bindings.rs` lacks
// `decl::<error::ErrorAction>`. Until the bindings are regenerated with it, the name resolves
// to this global; delete this file then (the module's own declaration would shadow it anyway).
type ErrorAction =
  | "retry"
  | "startDocker"
  | "reenterToken"
  | "openAccounts"
  | "openProjectSettings"
  | "reviewPlan"
  | "openProject";
