//! Every one of our five stacks, started by its compose file on the
//! write-ups' ports as a learner starts it, gets a full score from
//! `desafios check N`, and the tool exits 0. The rubric the teachers' page
//! lists and the GitHub Classroom workflow grades item by item are the
//! requirements that run produced, in its order, with its points.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{check, outcomes, report};
use e2e::{serial, Stack};
use serde_json::Value;

/// `desafios check N --json` scores every requirement, lists what failed
/// otherwise, and exits 0; the text report says the same score.
#[track_caller]
fn full_score(challenge: &str) {
    let run = check(&[challenge, "--json"]);
    let report = report(&run);
    let outcomes = outcomes(&report);
    let failed: Vec<&&Value> = outcomes.iter().filter(|o| o["passed"] != true).collect();
    assert!(failed.is_empty(), "failed requirements: {failed:#?}");
    let (score, max) = (&report["score"], &report["max"]);
    assert!(max.as_u64().unwrap() > 0, "{report}");
    assert_eq!(score, max, "{report}");
    assert_eq!(run.code(), Some(0), "{}", run.stderr);

    classroom_grades_each(challenge, &outcomes);
    teachers_page_lists(&outcomes);

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

/// `docs/classroom/desafioN.yml` has one autograding step per outcome, in
/// order: its name, the index its `jq` reads, and its points.
fn classroom_grades_each(challenge: &str, outcomes: &[&Value]) {
    let path = e2e::repo_root().join(format!("docs/classroom/desafio{challenge}.yml"));
    let workflow = std::fs::read_to_string(&path).unwrap();
    let field = |key: &str| -> Vec<String> {
        workflow
            .lines()
            .filter_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.trim().to_owned())
            .collect()
    };
    let names = field("test-name:");
    let scores = field("max-score:");
    let commands = field("command: jq");
    assert_eq!(names.len(), outcomes.len(), "{}", path.display());
    for (i, outcome) in outcomes.iter().enumerate() {
        let quoted = format!(
            "'{}'",
            outcome["requirement"].as_str().unwrap().replace('\'', "''")
        );
        assert_eq!(names[i], quoted, "{} step {}", path.display(), i + 1);
        assert_eq!(scores[i], outcome["points"].to_string(), "{}", names[i]);
        assert!(
            commands[i].contains(&format!("[.sections[].outcomes[]][{i}].passed")),
            "{}: {}",
            names[i],
            commands[i]
        );
    }
}

/// The teachers' page has a row for each requirement with its points.
fn teachers_page_lists(outcomes: &[&Value]) {
    for page in ["docs/checking.md", "docs/checking.pt-BR.md"] {
        let text = std::fs::read_to_string(e2e::repo_root().join(page)).unwrap();
        for outcome in outcomes {
            let row = format!(
                "| {} | {} |",
                outcome["requirement"].as_str().unwrap(),
                outcome["points"]
            );
            assert!(text.contains(&row), "{page} has no row `{row}`");
        }
    }
}

/// Desafio `n`'s stack started as the README starts it, then graded.
#[track_caller]
fn started_scores_full(n: u8) {
    let _guard = serial();
    let stack = Stack::new(&format!("desafio{n}"));
    if n == 2 {
        // A one-shot program: build, then one run, which creates the volume.
        stack.compose(&["build"]).ok();
        stack.compose(&["run", "--rm", "writer"]).ok();
    } else {
        stack.up();
    }
    full_score(&n.to_string());
}

#[test]
fn desafio1_scores_full() {
    started_scores_full(1);
}

#[test]
fn desafio2_scores_full() {
    started_scores_full(2);
}

#[test]
fn desafio3_scores_full() {
    started_scores_full(3);
}

#[test]
fn desafio4_scores_full() {
    started_scores_full(4);
}

#[test]
fn desafio5_scores_full() {
    started_scores_full(5);
}
