//! What the integration tests share: running the built `desafios`, reading
//! its JSON report, and copies of the Flask stacks in `bench/flask` with a
//! planted break.

#![allow(clippy::unwrap_used, dead_code)] // each test file uses a part

use std::path::{Path, PathBuf};

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

/// `(requirement, points)` of every outcome of `report` that did not pass.
pub fn failed(report: &Value) -> Vec<(String, u64)> {
    outcomes(report)
        .into_iter()
        .filter(|o| o["passed"] != true)
        .map(|o| {
            (
                o["requirement"].as_str().unwrap().to_owned(),
                o["points"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A planted break: in `file` (under `bench/flask`), `from` becomes `to`.
pub type Break = (&'static str, &'static str, &'static str);

/// Desafio 4's service B with its sentence reworded, and the one
/// requirement that costs.
pub const DESAFIO4_REWORDED: (Break, &str) = (
    (
        "desafio4/service_b.py",
        "Usuário {u['nome']}",
        "Usuario {u['nome']}",
    ),
    "service B turns each of A's users into the write-up's sentence",
);

/// `bench/flask` copied into a temporary folder, with the first `from` in
/// `file` (relative to it) replaced by `to`: the planted break. The folder
/// lives as long as the returned guard.
pub fn broken_copy(file: &str, from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("flask");
    copy_dir(&e2e::repo_root().join("bench/flask"), &root);
    plant(&root, file, from, to);
    (temp, root)
}

/// The first `from` in `file` (relative to `root`) replaced by `to`.
pub fn plant(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}` to break");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The folder `from` copied, recursively, to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
