//! What the integration tests share: running the built `desafios` and
//! reading its JSON report.

#![allow(clippy::unwrap_used, dead_code)] // each test file uses a part

use e2e::{run_in, Run};
use serde_json::Value;

/// `desafios check <args>` from the workspace root.
pub fn check(args: &[&str]) -> Run {
    let mut full = vec!["check"];
    full.extend_from_slice(args);
    run_in(
        &e2e::repo_root(),
        env!("CARGO_BIN_EXE_desafios"),
        &full,
        &[],
    )
}

/// The report a `--json` run printed.
pub fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr))
}

/// Every outcome of `report`, in the order the tool checked them.
pub fn outcomes(report: &Value) -> Vec<&Value> {
    report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["outcomes"].as_array().unwrap())
        .collect()
}
