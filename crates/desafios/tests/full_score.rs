//! Every one of our five stacks, started by its compose file on the
//! write-ups' ports as a learner starts it, gets a full score from
//! `desafios check N`, and the tool exits 0.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use e2e::{run_in, serial, Run, Stack};
use serde_json::Value;

/// `desafios check <args>` from the workspace root.
fn check(args: &[&str]) -> Run {
    let mut full = vec!["check"];
    full.extend_from_slice(args);
    run_in(
        &e2e::repo_root(),
        env!("CARGO_BIN_EXE_desafios"),
        &full,
        &[],
    )
}

/// `desafios check N --json` scores every requirement, lists what failed
/// otherwise, and exits 0; the text report says the same score.
#[track_caller]
fn full_score(challenge: &str) {
    let run = check(&[challenge, "--json"]);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr));
    let failed: Vec<&Value> = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["outcomes"].as_array().unwrap())
        .filter(|o| o["passed"] != true)
        .collect();
    assert!(failed.is_empty(), "failed requirements: {failed:#?}");
    let (score, max) = (&report["score"], &report["max"]);
    assert!(max.as_u64().unwrap() > 0, "{report}");
    assert_eq!(score, max, "{report}");
    assert_eq!(run.code(), Some(0), "{}", run.stderr);

    let text = check(&[challenge]);
    assert_eq!(text.code(), Some(0), "{}{}", text.stdout, text.stderr);
    assert!(
        text.stdout
            .trim_end()
            .ends_with(&format!("score: {score}/{max}")),
        "{}",
        text.stdout
    );
}

#[test]
fn desafio1_scores_full() {
    let _guard = serial();
    let stack = Stack::new("desafio1");
    stack.up();
    full_score("1");
}

#[test]
fn desafio2_scores_full() {
    let _guard = serial();
    let stack = Stack::new("desafio2");
    // As the README has it: build, then one run, which creates the volume.
    stack.compose(&["build"]).ok();
    stack.compose(&["run", "--rm", "writer"]).ok();
    full_score("2");
}

#[test]
fn desafio3_scores_full() {
    let _guard = serial();
    let stack = Stack::new("desafio3");
    stack.up();
    full_score("3");
}

#[test]
fn desafio4_scores_full() {
    let _guard = serial();
    let stack = Stack::new("desafio4");
    stack.up();
    full_score("4");
}

#[test]
fn desafio5_scores_full() {
    let _guard = serial();
    let stack = Stack::new("desafio5");
    stack.up();
    full_score("5");
}
