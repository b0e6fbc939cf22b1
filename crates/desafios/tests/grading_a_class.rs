//! The teachers' page (`docs/checking.md`, and its Portuguese twin) shows a
//! shell loop that grades a class of submissions into a CSV. This runs that
//! block, as the page prints it, over two Desafio 4 submissions: the Flask
//! stack of `bench/flask` (`ana`) and a copy with service B's sentence
//! reworded (`bruno`). Each gets its row with its real score: the page's
//! rubric for Desafio 4 in full for `ana`, less that sentence's points for
//! `bruno`; and the CSV is the one the page shows.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::{copy_dir, failed, plant, DESAFIO4_REWORDED};
use e2e::{docker, run_in, serial, Stack};
use serde_json::Value;

/// The line the page puts before the loop.
const MARKER: &str = "<!-- grading loop:";

/// The planted break of `bruno`, and the requirement it costs.
const REWORDED: common::Break = DESAFIO4_REWORDED.0;
const SENTENCE: &str = DESAFIO4_REWORDED.1;

/// The lines of the first fenced block tagged `lang` after `MARKER`.
fn block_after_marker(page: &str, lang: &str) -> String {
    let text = std::fs::read_to_string(e2e::repo_root().join(page)).unwrap();
    let after = text
        .split_once(MARKER)
        .unwrap_or_else(|| panic!("{page} has no `{MARKER}` line"))
        .1;
    let open = format!("```{lang}\n");
    let start = after.find(&open).unwrap() + open.len();
    let len = after[start..].find("```").unwrap();
    after[start..start + len].to_owned()
}

/// `(requirement, points)` of each row of Desafio 4's rubric on the page.
fn rubric_of_desafio4(page: &str) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(e2e::repo_root().join(page)).unwrap();
    let section = text.split("### Desafio 4").nth(1).unwrap();
    let section = section.split("### ").next().unwrap();
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .strip_prefix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            let points = cells.get(1)?.parse().ok()?;
            Some((cells[0].to_owned(), points))
        })
        .collect()
}

/// `submissions/<name>`: `bench/flask` copied, with the Desafio 4 stack's
/// compose file included from the top, as a student's repository has it.
fn submission(class: &Path, name: &str) -> PathBuf {
    let dir = class.join("submissions").join(name);
    copy_dir(&e2e::repo_root().join("bench/flask"), &dir);
    std::fs::write(
        dir.join("compose.yaml"),
        "include: [desafio4/compose.yaml]\n",
    )
    .unwrap();
    dir
}

#[test]
fn the_pages_loop_grades_a_class_into_a_csv() {
    let _guard = serial();
    let page = "docs/checking.md";
    let script = block_after_marker(page, "bash");
    let shown = block_after_marker(page, "text");
    let twin = "docs/checking.pt-BR.md";
    assert_eq!(block_after_marker(twin, "bash"), script, "{twin}");
    assert_eq!(block_after_marker(twin, "text"), shown, "{twin}");
    assert!(script.contains("desafios check 4"), "{script}");

    // The image the loop runs, built as the page's "Running it" builds it.
    docker(&[
        "build",
        "-q",
        "-t",
        "desafios",
        "-f",
        "crates/desafios/Dockerfile",
        ".",
    ])
    .ok();

    let class = tempfile::tempdir().unwrap();
    let ana = submission(class.path(), "ana");
    let bruno = submission(class.path(), "bruno");
    plant(&bruno, REWORDED.0, REWORDED.1, REWORDED.2);
    // Each removes its stack when dropped, should the loop stop half-way.
    let _stacks = [Stack::at(ana.clone()), Stack::at(bruno.clone())];

    run_in(class.path(), "bash", &["-c", &script], &[]).ok();

    let rubric = rubric_of_desafio4(page);
    let max: u64 = rubric.iter().map(|(_, p)| p).sum();
    let sentence = rubric.iter().find(|(r, _)| r == SENTENCE).unwrap().1;
    assert!(max > 0 && sentence > 0, "{rubric:?}");
    let csv = std::fs::read_to_string(class.path().join("notas.csv")).unwrap();
    let expected = format!(
        "student,score,max\n\"ana\",{max},{max}\n\"bruno\",{},{max}\n",
        max - sentence
    );
    assert_eq!(csv, expected);
    assert_eq!(csv, shown, "the CSV {page} shows");

    // What the loop kept for the teacher to send back names the failure.
    let failed_in = |dir: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join("check.json")).unwrap();
        let report: Value = serde_json::from_str(&text).unwrap();
        failed(&report)
            .into_iter()
            .map(|(requirement, _)| requirement)
            .collect()
    };
    assert_eq!(failed_in(&ana), Vec::<String>::new());
    assert_eq!(failed_in(&bruno), [SENTENCE]);
}
