//! Runs a README's walk-through and checks it still tells the truth.
//!
//! A README is a list of fenced blocks. Every ```` ```bash ```` block is a
//! step: its commands run in order, in one shell per block, from the folder
//! the previous step ended in (a block may `cd`). A ```` ```text ```` block
//! that follows a step (before the next step) is that step's expected output,
//! trimmed: each of its lines must appear in the real output, in order, with
//! other lines allowed in between. Inside an expected line, `<anything>`
//! stands for a part that varies (a time, an id, a count) and matches any
//! text; runs of spaces count as one space.
//!
//! The walk-through ends at the line `<!-- walkthrough: end -->` if the
//! README has one: what follows (a Swarm deployment, say) is shown, not run
//! here, because its own end-to-end test covers it.
//!
//! Two adaptations make a learner's commands runnable unattended:
//! `docker logs -f` is run without `-f` (following never ends), and a step
//! made only of read-only commands (`curl` without `-X`, `docker logs`,
//! `docker ps`, `docker ... inspect`) is retried for up to 30 s until its
//! output matches, because it shows a state the stack reaches on its own
//! (the client's second poll, say).

use std::{path::Path, time::Duration};

use std::time::Instant;

use crate::run_in;

/// How long a read-only step may take to show the state it documents.
const READ_RETRY: Duration = Duration::from_secs(30);

/// The line after which a README's blocks are no longer run.
pub const END_MARKER: &str = "<!-- walkthrough: end -->";

/// One step of a walk-through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub commands: Vec<String>,
    pub expected: Vec<String>,
}

/// The steps of `markdown`, in order.
pub fn steps(markdown: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut block: Option<(String, Vec<String>)> = None;
    for line in markdown.lines() {
        if line.trim() == END_MARKER {
            break;
        }
        if let Some(rest) = line.trim_start().strip_prefix("```") {
            match block.take() {
                None => block = Some((rest.trim().to_owned(), Vec::new())),
                Some((lang, lines)) => match lang.as_str() {
                    "bash" => steps.push(Step {
                        commands: lines,
                        expected: Vec::new(),
                    }),
                    "text" => {
                        if let Some(step) = steps.last_mut().filter(|s| s.expected.is_empty()) {
                            step.expected = lines;
                        }
                    }
                    _ => {}
                },
            }
        } else if let Some((_, lines)) = block.as_mut() {
            lines.push(line.to_owned());
        }
    }
    steps
}

/// Whether `actual` (one line) matches `expected` with its placeholders.
pub fn line_matches(expected: &str, actual: &str) -> bool {
    let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (expected, actual) = (squeeze(expected), squeeze(actual));
    // Literal pieces between placeholders, which must appear in order.
    let mut pieces = Vec::new();
    let mut rest = expected.as_str();
    while let Some(open) = rest.find('<') {
        match rest[open..].find('>') {
            Some(close) => {
                pieces.push(&rest[..open]);
                rest = &rest[open + close + 1..];
            }
            None => break,
        }
    }
    pieces.push(rest);
    let anchored_start = !expected.starts_with('<');
    let anchored_end = !expected.ends_with('>');
    let mut at = 0;
    for (i, piece) in pieces.iter().enumerate() {
        if piece.is_empty() {
            continue;
        }
        if i == 0 && anchored_start {
            if pieces.len() == 1 && anchored_end {
                return actual == *piece;
            }
            if !actual.starts_with(piece) {
                return false;
            }
            at = piece.len();
            continue;
        }
        if i == pieces.len() - 1 && anchored_end {
            return actual.len() >= at + piece.len() && actual[at..].ends_with(piece);
        }
        match actual[at..].find(piece) {
            Some(found) => at += found + piece.len(),
            None => return false,
        }
    }
    true
}

/// Whether every expected line appears in `output`, in order.
pub fn output_matches(expected: &[String], output: &str) -> Result<(), String> {
    let mut lines = output.lines();
    for want in expected.iter().filter(|l| !l.trim().is_empty()) {
        if !lines.by_ref().any(|got| line_matches(want, got)) {
            return Err(format!("expected line not found (in order): {want}"));
        }
    }
    Ok(())
}

fn read_only(command: &str) -> bool {
    let c = command.trim();
    (c.starts_with("curl ") && !c.contains(" -X"))
        || c.starts_with("docker logs ")
        || c.starts_with("docker ps")
        || (c.starts_with("docker ") && c.contains(" inspect"))
        || c.is_empty()
}

/// What a terminal gives a learner that a pipe does not: curl without its
/// progress meter (it shows one only when its output is not a terminal).
const TERMINAL: &str = "curl() { command curl -sS \"$@\"; }";

/// The block's lines grouped into commands (a line ending in `\` goes on),
/// so each command's output can start on a line of its own, as it does
/// after a prompt.
fn commands(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut continues = false;
    for line in lines {
        match out.last_mut() {
            Some(last) if continues => {
                last.push('\n');
                last.push_str(line);
            }
            _ => out.push(line.clone()),
        }
        continues = line.trim_end().ends_with('\\');
    }
    out
}

/// Makes a learner's command runnable without a terminal: `logs -f`
/// (`docker logs -f`, `docker compose logs -f web`) without the `-f`.
fn unattended(command: &str) -> String {
    let words: Vec<&str> = command.split(' ').collect();
    let mut out = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        if *word == "-f" && i > 0 && words[i - 1] == "logs" {
            continue;
        }
        out.push(*word);
    }
    out.join(" ")
}

/// A command as the tests compare it: continuation lines joined, runs of
/// spaces as one.
pub fn normalized(command: &str) -> String {
    command
        .replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every command a write-up shows (`docker`, `docker-compose`, `curl`,
/// `cd`, and bare `http://` URLs to open), in order, normalized: those in
/// its code blocks, or with `fenced_only` false (write-up 003 has no code
/// blocks) every line that starts like one.
pub fn write_up_commands(text: &str, fenced_only: bool) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(info) = line.strip_prefix("```") {
            // One write-up has a stray closing fence: a fence naming a
            // language always opens a block.
            fenced = !fenced || !info.trim_matches('`').is_empty();
            continue;
        }
        if fenced_only && !fenced {
            continue;
        }
        if !pending.is_empty() {
            pending.push(' ');
            pending.push_str(line);
        } else if ["docker ", "docker-compose ", "curl ", "cd ", "http://"]
            .iter()
            .any(|p| line.starts_with(p))
        {
            pending = line.to_owned();
        } else {
            continue;
        }
        if let Some(open) = pending.strip_suffix('\\') {
            pending = open.to_owned();
        } else if pending.matches('\'').count() % 2 == 1 {
            // A quoted JSON body that goes on over several lines.
        } else {
            if pending.starts_with("http") {
                // A URL and what the write-up says about it.
                pending.truncate(pending.find(' ').unwrap_or(pending.len()));
            }
            found.push(normalized(&pending));
            pending.clear();
        }
    }
    found
}

/// One row of a README's "From the write-up" table: what the write-up says,
/// and what to type instead (`None`: it works as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub write_up: String,
    pub instead: Option<String>,
}

impl Row {
    /// The command the walk-through must run for this row: the replacement,
    /// or the write-up's own (a bare URL is fetched with `curl`).
    pub fn typed(&self) -> String {
        match &self.instead {
            Some(command) => command.clone(),
            None if self.write_up.starts_with("http") => format!("curl {}", self.write_up),
            None => self.write_up.clone(),
        }
    }
}

/// The code spans of a table line's cells (a `|` inside a span is text).
fn cells(line: &str) -> Vec<Vec<String>> {
    let mut cells = vec![Vec::new()];
    let mut span: Option<String> = None;
    for c in line.trim().trim_matches('|').chars() {
        match (&mut span, c) {
            (None, '`') => span = Some(String::new()),
            (Some(text), '`') => {
                if let Some(cell) = cells.last_mut() {
                    cell.push(std::mem::take(text));
                }
                span = None;
            }
            (Some(text), c) => text.push(c),
            (None, '|') => cells.push(Vec::new()),
            (None, _) => {}
        }
    }
    cells
}

/// The code spans of each cell of the table rows under the heading
/// `heading` (a `## ` line), for the rows whose first cell has one.
fn table_under(markdown: &str, heading: &str) -> Vec<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    let mut inside = false;
    for line in markdown.lines() {
        if line.starts_with("## ") {
            inside = line.trim() == heading;
        } else if inside && line.starts_with('|') {
            let cells = cells(line);
            if cells.first().is_some_and(|c| !c.is_empty()) {
                rows.push(cells);
            }
        }
    }
    rows
}

/// The rows of the table under the heading `heading`: the first code span
/// of the first cell is the write-up's command, the first of the second
/// cell, if any, what to type instead.
pub fn write_up_rows(markdown: &str, heading: &str) -> Vec<Row> {
    table_under(markdown, heading)
        .into_iter()
        .map(|cells| Row {
            write_up: normalized(&cells[0][0]),
            instead: cells.get(1).and_then(|c| c.first()).map(|c| normalized(c)),
        })
        .collect()
}

/// What the write-up `text` shows a program printing or answering, each as
/// one line: the strings its Python code `print`s, the blocks it introduces
/// as expected output ("Resposta esperada", "Saída esperada", the page's
/// "Aba" examples), the line after a plain "Saída esperada:" (write-up 003
/// has no code blocks), and phrases in “quotes”.
pub fn write_up_outputs(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    // The lines of an expected-output block being read.
    let mut block: Option<Vec<String>> = None;
    // The last non-empty line outside code blocks, which says what a block is.
    let mut previous = String::new();
    let mut next_is_output = false;
    for line in text.lines().map(str::trim) {
        if let Some(info) = line.strip_prefix("```") {
            // As in `write_up_commands`: a fence naming a language opens.
            if fenced && info.trim_matches('`').is_empty() {
                fenced = false;
                found.extend(block.take().map(|lines| lines.join(" ")));
                previous.clear();
            } else {
                fenced = true;
                next_is_output = false;
                let expected = previous.contains("esperada") || previous.starts_with("**Aba ");
                block = expected.then(Vec::new);
            }
            continue;
        }
        if fenced {
            match block.as_mut() {
                Some(lines) if !line.is_empty() => lines.push(line.to_owned()),
                Some(_) => {}
                None => found.extend(printed(line)),
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if std::mem::take(&mut next_is_output) {
            found.push(line.to_owned());
        }
        next_is_output = line == "Saída esperada:";
        let mut rest = line;
        while let Some((_, after)) = rest.split_once('“') {
            let Some((quoted, tail)) = after.split_once('”') else {
                break;
            };
            found.push(quoted.to_owned());
            rest = tail;
        }
        previous = line.to_owned();
    }
    found
}

/// The string a Python line `print`s (`print("...")`, `print(f'...')`).
fn printed(line: &str) -> Option<String> {
    let call = &line[line.find("print(")? + "print(".len()..];
    let call = call.strip_prefix('f').unwrap_or(call);
    let quote = call.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let inner = &call[1..];
    Some(inner[..inner.find(quote)?].to_owned())
}

/// Whether `pattern` (its `<...>` placeholders standing for any text)
/// matches a part of `text`, whitespace aside: so that `"status": "ok"` is
/// found in `{"status":"ok"}`.
pub fn shows(text: &str, pattern: &str) -> bool {
    let packed = |s: &str| s.split_whitespace().collect::<String>();
    line_matches(&format!("<>{}<>", packed(pattern)), &packed(text))
}

/// One row of a README's table of the write-up's outputs: the output as
/// the write-up shows it, what shows here (the same when it is as written),
/// and the test files that check it (none: the walk-through shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRow {
    pub write_up: String,
    pub here: String,
    pub checked_by: Vec<String>,
}

/// The rows of the outputs table under the heading `heading`: the first
/// code span of the first cell is the write-up's output; in the second
/// cell, spans naming a `.rs` file are the tests that check it, and the
/// first other span, if any, what shows here instead.
pub fn output_rows(markdown: &str, heading: &str) -> Vec<OutputRow> {
    table_under(markdown, heading)
        .into_iter()
        .map(|mut cells| {
            let write_up = cells[0].remove(0);
            let spans = cells.get(1).cloned().unwrap_or_default();
            let (checked_by, other): (Vec<String>, Vec<String>) =
                spans.into_iter().partition(|span| span.ends_with(".rs"));
            OutputRow {
                here: other.into_iter().next().unwrap_or_else(|| write_up.clone()),
                write_up,
                checked_by,
            }
        })
        .collect()
}

/// Every command the walk-through of `markdown` runs, normalized.
pub fn walkthrough_commands(markdown: &str) -> Vec<String> {
    steps(markdown)
        .iter()
        .flat_map(|step| commands(&step.commands))
        .map(|c| normalized(&c))
        .collect()
}

/// Runs every step of the README at `readme` (paths relative to the repo
/// root), starting in the repository root, and panics at the first step whose
/// command fails or whose output no longer matches.
#[track_caller]
pub fn run_walkthrough(readme: &str) {
    let root = crate::repo_root();
    let text =
        std::fs::read_to_string(root.join(readme)).unwrap_or_else(|e| panic!("{readme}: {e}"));
    let mut cwd = root.clone();
    for (n, step) in steps(&text).into_iter().enumerate() {
        let script: Vec<String> = step.commands.iter().map(|c| unattended(c)).collect();
        let retry = step.commands.iter().all(|c| read_only(c)) && !step.expected.is_empty();
        let run_step = |cwd: &Path| {
            // The marker starts on a line of its own: `curl` output has no
            // trailing newline and would otherwise swallow it.
            let body = format!(
                "set -eo pipefail\n{TERMINAL}\n{}\nprintf '\\n__cwd__=%s\\n' \"$(pwd)\"",
                commands(&script).join("\nprintf '\\n'\n")
            );
            let run = run_in(cwd, "bash", &["-c", &body], &[]);
            let output = format!("{}{}", run.stdout, run.stderr);
            (run, output)
        };
        let (run, output) = if retry {
            // The state the step shows may take a moment to arrive.
            let deadline = Instant::now() + READ_RETRY;
            loop {
                let (run, output) = run_step(&cwd);
                let ok = run.success() && output_matches(&step.expected, &output).is_ok();
                if ok || Instant::now() > deadline {
                    break (run, output);
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        } else {
            run_step(&cwd)
        };
        assert!(
            run.success(),
            "{readme} step {}: `{}` failed:\n{output}",
            n + 1,
            script.join("; ")
        );
        if let Err(why) = output_matches(&step.expected, &output) {
            panic!(
                "{readme} step {} (`{}`): {why}\n--- output\n{output}",
                n + 1,
                script.join("; ")
            );
        }
        if let Some(dir) = run
            .stdout
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("__cwd__="))
        {
            cwd = dir.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn following_logs_is_run_without_following() {
        assert_eq!(unattended("docker logs -f client"), "docker logs client");
        assert_eq!(unattended("docker compose logs -f"), "docker compose logs");
        assert_eq!(
            unattended("docker compose -f compose.yaml logs -f web"),
            "docker compose -f compose.yaml logs web"
        );
    }

    #[test]
    fn write_up_commands_come_from_code_blocks_whole() {
        let text = "docker rm x prose\n```\n```\n\n```bash\n# a comment\ncurl -X POST http://h/ \\\n  -d '{}'\n   cd desafio1\nhttp://localhost:1/x (o 1)\nls\n```\n";
        assert_eq!(
            write_up_commands(text, true),
            [
                "curl -X POST http://h/ -d '{}'",
                "cd desafio1",
                "http://localhost:1/x"
            ]
        );
        let body = "```\ncurl -d '{\n  \"a\": 1\n}'\n```\n";
        assert_eq!(write_up_commands(body, true), ["curl -d '{ \"a\": 1 }'"]);
        assert_eq!(
            write_up_commands("prose\ndocker ps\n", false),
            ["docker ps"]
        );
    }

    #[test]
    fn placeholders_match_varying_parts_only() {
        assert!(line_matches(
            "[<time>] Requisição #1 recebida",
            "[2026-01-01 10:00:00] Requisição #1 recebida"
        ));
        assert!(!line_matches(
            "[<time>] Requisição #1 recebida",
            "[x] Requisição #2 recebida"
        ));
        assert!(line_matches(
            "| 1 | <nome> | <idade> |",
            "|  1  | Ana Lima | 20    |"
        ));
        assert!(line_matches("<anything>", "whatever"));
        assert!(!line_matches("total 1", "total 12"));
        assert!(line_matches(" Container x  Started", "Container x Started"));
    }

    #[test]
    fn expected_lines_must_appear_in_order() {
        let out = "a\nnoise\nb\nc\n";
        assert!(output_matches(&["a".into(), "c".into()], out).is_ok());
        assert!(output_matches(&["c".into(), "a".into()], out).is_err());
    }

    #[test]
    fn nothing_after_the_end_marker_runs() {
        let md = format!("```bash\nfirst\n```\n{END_MARKER}\n```bash\ndocker swarm init\n```\n");
        let steps = steps(&md);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].commands, vec!["first".to_owned()]);
    }

    #[test]
    fn a_text_block_belongs_to_the_step_before_it() {
        let md = "```bash\ncurl x\n```\nprose\n```text\nout\n```\n```bash\ndocker compose down\n```\n```rust\nfn f() {}\n```\n";
        assert_eq!(
            steps(md),
            vec![
                Step {
                    commands: vec!["curl x".into()],
                    expected: vec!["out".into()]
                },
                Step {
                    commands: vec!["docker compose down".into()],
                    expected: vec![]
                },
            ]
        );
    }

    #[test]
    fn only_reads_are_retried_and_follow_is_dropped() {
        assert!(read_only("curl http://localhost:8080/"));
        assert!(!read_only("curl -X POST http://localhost:5000/api/posts"));
        assert!(read_only("docker network inspect desafio1-network"));
        assert!(!read_only("docker run --rm d2-image"));
        assert_eq!(unattended("docker logs -f client"), "docker logs client");
    }

    #[test]
    fn continued_lines_form_one_command() {
        let lines: Vec<String> = ["curl -X POST x \\", "  -d '{}'", "curl y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            commands(&lines),
            vec!["curl -X POST x \\\n  -d '{}'", "curl y"]
        );
    }
}
