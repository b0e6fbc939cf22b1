//! The READMEs in English and Portuguese teach the same thing: each
//! document (`README.md`, a challenge's `ENGINEERING.md`, the pages in
//! `docs/`) has a `.pt-BR.md` twin beside it, each links to the other, and
//! both show the same commands and the same outputs, block for block. Every
//! link between them leads to a file and a heading that exist.
//!
//! What may differ is prose: comments in command and code blocks, untagged
//! blocks (a layout tree with translated notes) and Mermaid labels (only the
//! number of diagrams must match).
//!
//! And every Mermaid diagram of every README renders: GitHub shows a
//! diagram that does not parse as an error box, so each one goes through
//! mermaid-cli (pinned, installed with npm under the target folder on first
//! use) driving Debian's Chromium.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// A fenced block: its language tag and its lines.
#[derive(Debug, PartialEq, Eq)]
struct Block {
    lang: String,
    lines: Vec<String>,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("```") {
            match current.take() {
                Some(block) => out.push(block),
                None => {
                    current = Some(Block {
                        lang: rest.trim().to_owned(),
                        lines: Vec::new(),
                    })
                }
            }
        } else if let Some(block) = current.as_mut() {
            block.lines.push(line.to_owned());
        }
    }
    assert!(current.is_none(), "an unclosed ``` block");
    out
}

/// The comment marker of a language whose comments may be translated.
fn comment_marker(lang: &str) -> Option<&'static str> {
    match lang {
        "bash" | "sh" | "shell" | "console" | "python" | "yaml" | "dockerfile" => Some("#"),
        "rust" | "js" | "javascript" => Some("//"),
        _ => None,
    }
}

/// `line` without a trailing comment (one not inside quotes), or `None` if
/// the whole line is a comment.
fn strip_comment(line: &str, marker: &str) -> Option<String> {
    if line.trim_start().starts_with(marker) {
        return None;
    }
    let spaced = format!(" {marker}");
    Some(match line.find(&spaced) {
        Some(i) if !line[..i].contains('\'') && !line[..i].contains('"') => {
            line[..i].trim_end().to_owned()
        }
        _ => line.to_owned(),
    })
}

/// The part of a block both languages must share.
fn comparable(block: &Block) -> Option<(String, Vec<String>)> {
    let lang = block.lang.as_str();
    match (lang, comment_marker(lang)) {
        ("", _) => None,
        ("mermaid", _) => Some(("mermaid".into(), Vec::new())),
        (_, Some(marker)) => Some((
            lang.into(),
            block
                .lines
                .iter()
                .filter_map(|l| strip_comment(l, marker))
                .collect(),
        )),
        (_, None) => Some((lang.into(), block.lines.clone())),
    }
}

fn readme_dirs() -> Vec<PathBuf> {
    let root = e2e::repo_root();
    let mut dirs = vec![root.clone()];
    for n in 1..=5 {
        dirs.push(root.join(format!("desafio{n}")));
    }
    dirs
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every English document of the top folder, the challenges' folders and
/// `docs/`, with the path its Portuguese twin must have.
fn twins() -> Vec<(PathBuf, PathBuf)> {
    let mut dirs = readme_dirs();
    dirs.push(e2e::repo_root().join("docs"));
    let mut out = Vec::new();
    for dir in dirs {
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".md") && !name.ends_with(".pt-BR.md"))
            .collect();
        names.sort();
        for name in names {
            let pt = name.replace(".md", ".pt-BR.md");
            out.push((dir.join(&name), dir.join(pt)));
        }
    }
    out
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn every_document_has_a_portuguese_twin_and_links_to_it() {
    let twins = twins();
    assert!(twins.len() >= 13, "the documents were found: {twins:?}");
    for (en, pt) in twins {
        let (en_text, pt_text) = (read(&en), read(&pt));
        assert!(
            en_text.contains(&format!("({})", file_name(&pt))),
            "{}: no link to pt-BR",
            en.display()
        );
        assert!(
            pt_text.contains(&format!("({})", file_name(&en))),
            "{}: no link to English",
            pt.display()
        );
    }
}

/// The anchor GitHub gives a heading: lower case, punctuation dropped
/// (letters with accents kept), spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The lines of `markdown` outside its fenced code blocks.
fn prose_lines(markdown: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    markdown.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The anchors of `markdown`'s headings (outside code blocks).
fn anchors(markdown: &str) -> BTreeSet<String> {
    prose_lines(markdown)
        .filter(|line| line.starts_with('#'))
        .map(|line| anchor(line.trim_start_matches('#')))
        .collect()
}

/// The targets of `markdown`'s inline links `[text](target)`, outside code.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose_lines(markdown) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    out
}

/// A reader who follows a link between the documents finds the file, and
/// the heading if the link names one: moving a section must move its links.
#[test]
fn every_link_between_the_documents_leads_somewhere() {
    let mut followed = 0;
    for (en, pt) in twins() {
        for doc in [en, pt] {
            let text = read(&doc);
            for target in link_targets(&text) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
                let path = if file.is_empty() {
                    doc.clone()
                } else {
                    doc.parent().unwrap().join(file)
                };
                assert!(
                    path.exists(),
                    "{}: the link `{target}` leads to no file",
                    doc.display()
                );
                if !fragment.is_empty() && path.extension().is_some_and(|e| e == "md") {
                    assert!(
                        anchors(&read(&path)).contains(fragment),
                        "{}: the link `{target}` names no heading of {}",
                        doc.display(),
                        path.display()
                    );
                }
                followed += 1;
            }
        }
    }
    assert!(followed >= 50, "the links were found ({followed})");
    assert_eq!(
        anchor(" Check your own: Desafio 3 (`docker`)"),
        "check-your-own-desafio-3-docker"
    );
    assert_eq!(
        anchor("Confira o seu — não é só"),
        "confira-o-seu--não-é-só"
    );
}

/// Each challenge's README is a learning path a beginner follows to the end:
/// it links its engineering notes, the troubleshooting page, and the
/// challenges before and after it.
#[test]
fn every_challenge_links_its_notes_troubleshooting_and_neighbours() {
    for n in 1..=5u32 {
        let dir = e2e::repo_root().join(format!("desafio{n}"));
        for (readme, notes, trouble) in [
            (
                "README.md",
                "(ENGINEERING.md)",
                "../docs/troubleshooting.md",
            ),
            (
                "README.pt-BR.md",
                "(ENGINEERING.pt-BR.md)",
                "../docs/troubleshooting.pt-BR.md",
            ),
        ] {
            let text = read(&dir.join(readme));
            let shown = format!("desafio{n}/{readme}");
            assert!(text.contains(notes), "{shown}: no link to its {notes}");
            assert!(text.contains(trouble), "{shown}: no link to {trouble}");
            for neighbour in [n - 1, n + 1].into_iter().filter(|m| (1..=5).contains(m)) {
                assert!(
                    text.contains(&format!("(../desafio{neighbour}/{readme})")),
                    "{shown}: no link to Desafio {neighbour}"
                );
            }
        }
    }
}

/// The `${NAME:-default}` variables a compose or stack file interpolates.
/// `$$` is compose's escape for a literal `$` (a shell's own variable).
fn compose_variables(yaml: &str) -> BTreeSet<String> {
    yaml.replace("$$", "")
        .split("${")
        .skip(1)
        .filter_map(|rest| {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            (end > 0).then(|| rest[..end].to_owned())
        })
        .collect()
}

/// Every setting a learner can change is listed, with its default, in the
/// challenge's `.env.example`, and nothing listed there is stale.
#[test]
fn every_compose_variable_is_in_env_example() {
    for n in 1..=5 {
        let dir = e2e::repo_root().join(format!("desafio{n}"));
        let mut used = BTreeSet::new();
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                used.extend(compose_variables(&read(&path)));
            }
        }
        let example = dir.join(".env.example");
        if used.is_empty() {
            assert!(!example.exists(), "{}: nothing to set", example.display());
            continue;
        }
        let listed: BTreeSet<String> = read(&example)
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| Some(l.split_once('=')?.0.trim().to_owned()))
            .collect();
        assert_eq!(used, listed, "{}", example.display());
    }
    assert_eq!(
        compose_variables("a: ${D1_PORT:-8080} b: $${NOT} c: ${X}"),
        ["D1_PORT", "X"].map(String::from).into()
    );
}

#[test]
fn both_languages_show_the_same_commands_and_outputs() {
    for (en_path, pt_path) in twins() {
        let en: Vec<_> = blocks(&read(&en_path))
            .iter()
            .filter_map(comparable)
            .collect();
        let pt: Vec<_> = blocks(&read(&pt_path))
            .iter()
            .filter_map(comparable)
            .collect();
        let shown = en_path.display();
        assert_eq!(en.len(), pt.len(), "{shown}: number of blocks");
        for (i, (a, b)) in en.iter().zip(&pt).enumerate() {
            assert_eq!(a, b, "{shown}: block {} differs", i + 1);
        }
    }
}

#[test]
fn the_block_parser_sees_commands_outputs_and_diagrams() {
    let sample = "# T\n```bash\ncurl x # note\n# only a comment\n```\ntext\n```text\nout\n```\n```mermaid\nA-->B\n```\n";
    let parsed: Vec<_> = blocks(sample).iter().filter_map(comparable).collect();
    assert_eq!(
        parsed,
        vec![
            ("bash".to_owned(), vec!["curl x".to_owned()]),
            ("text".to_owned(), vec!["out".to_owned()]),
            ("mermaid".to_owned(), vec![]),
        ]
    );
}

/// mermaid-cli and what it renders with, pinned exactly so a diagram that
/// renders today renders the same way on the next machine.
const MERMAID_CLI: &str = "11.17.0";
const MERMAID: &str = "11.17.2";
const PUPPETEER: &str = "24.43.1";

/// The `mmdc` binary, installed once per target folder. npm installs into a
/// scratch folder that is renamed into place only when complete, so an
/// interrupted or concurrent install never leaves a half-installed tool
/// behind.
fn mmdc() -> PathBuf {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let home = cache.join(format!("mermaid-cli-{MERMAID_CLI}"));
    let bin = home.join("node_modules/.bin/mmdc");
    if bin.exists() {
        return bin;
    }
    let scratch = tempfile::Builder::new()
        .prefix("mermaid-cli-install-")
        .tempdir_in(cache)
        .expect("a scratch folder under the target folder");
    let manifest = serde_json::json!({
        "private": true,
        "dependencies": {
            "@mermaid-js/mermaid-cli": MERMAID_CLI,
            "mermaid": MERMAID,
            "puppeteer": PUPPETEER,
        }
    });
    fs::write(scratch.path().join("package.json"), manifest.to_string())
        .expect("write package.json");
    // Puppeteer would download its own Chrome; Debian's Chromium is used.
    let run = e2e::run_in(
        scratch.path(),
        "npm",
        &[
            "install",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--loglevel=error",
        ],
        &[("PUPPETEER_SKIP_DOWNLOAD".into(), "1".into())],
    );
    assert!(
        run.success(),
        "npm install of mermaid-cli failed (Node.js and npm are needed):\n{}",
        run.stderr
    );
    // Another test process may have finished first; then its copy stays.
    if fs::rename(scratch.path(), &home).is_err() {
        assert!(
            bin.exists(),
            "could not move mermaid-cli to {}",
            home.display()
        );
    }
    bin
}

/// Every ```` ```mermaid ```` block of every README: (where, source).
fn diagrams() -> Vec<(String, String)> {
    let root = e2e::repo_root();
    let mut out = Vec::new();
    for (en, pt) in twins() {
        for path in [en, pt] {
            let shown = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let mermaid = blocks(&read(&path))
                .into_iter()
                .filter(|b| b.lang == "mermaid");
            for (i, block) in mermaid.enumerate() {
                out.push((
                    format!("{shown}, diagram {}", i + 1),
                    block.lines.join("\n"),
                ));
            }
        }
    }
    out
}

#[test]
fn every_mermaid_diagram_renders() {
    let diagrams = diagrams();
    assert!(diagrams.len() >= 12, "every README has a diagram");
    let chromium = e2e::browser::ensure_chromium();
    let mmdc = mmdc();
    let work = tempfile::tempdir().expect("a temporary folder");
    let config = work.path().join("puppeteer.json");
    let flags = serde_json::json!({
        "executablePath": chromium,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    fs::write(&config, flags.to_string()).expect("write the puppeteer config");
    // All diagrams in one Markdown file: one browser start for all of them.
    let all: String = diagrams
        .iter()
        .map(|(name, source)| format!("## {name}\n\n```mermaid\n{source}\n```\n\n"))
        .collect();
    fs::write(work.path().join("all.md"), all).expect("write all.md");
    let run = e2e::run_in(
        work.path(),
        &mmdc.display().to_string(),
        &[
            "-p",
            "puppeteer.json",
            "-i",
            "all.md",
            "-o",
            "out.md",
            "-e",
            "svg",
        ],
        &[],
    );
    // mmdc renders in order and stops at the first diagram that fails.
    let rendered = run.stdout.matches('✅').count();
    assert!(
        run.success(),
        "{} does not render:\n{}",
        diagrams
            .get(rendered)
            .map_or("a diagram", |(name, _)| name.as_str()),
        run.stderr
    );
    for (n, (name, _)) in diagrams.iter().enumerate() {
        let svg = fs::read_to_string(work.path().join(format!("out-{}.svg", n + 1)))
            .unwrap_or_else(|e| panic!("{name}: no SVG ({e})"));
        assert!(
            svg.contains("<svg") && !svg.contains("Syntax error"),
            "{name} rendered as an error"
        );
    }
}

/// The write-ups' text for challenge `n`: the sections of write-up 001 on
/// it (`# Desafio N`), and the write-ups wholly about it.
fn write_ups_of(n: u32) -> String {
    let dir = e2e::repo_root().join("write-ups");
    let overview = read(&dir.join("001_ca9e677a1d6fce5b.txt"));
    let mut text = String::new();
    let mut inside = false;
    for line in overview.lines() {
        if let Some(rest) = line.strip_prefix("# Desafio ") {
            inside = rest.starts_with(&n.to_string());
        }
        if inside {
            text.push_str(line);
            text.push('\n');
        }
    }
    let whole: &[&str] = match n {
        1 => &["000_155e230095aa5da6.txt"],
        3 => &["002_24c360b20c90e429.txt", "004_4b6ba056a6d84d45.txt"],
        _ => &[],
    };
    for file in whole {
        text.push_str(&read(&dir.join(file)));
    }
    text
}

/// The commands of challenge `n`'s write-ups, and their whole text.
fn write_up_commands_of(n: u32) -> (Vec<String>, String) {
    use e2e::readme::write_up_commands;
    let mut text = write_ups_of(n);
    let mut commands = write_up_commands(&text, true);
    if n == 3 {
        // Write-up 003 has no code blocks: its commands are plain lines.
        let manual = read(&e2e::repo_root().join("write-ups/003_0927871b9c0cb8c5.txt"));
        commands.extend(write_up_commands(&manual, false));
        text.push_str(&manual);
    }
    (commands, e2e::readme::normalized(&text))
}

/// Challenge `n`'s README and, if it has one, its engineering notes, in
/// the language whose file suffix is `suffix` (`""` or `".pt-BR"`).
fn challenge_docs(n: u32, suffix: &str) -> Vec<String> {
    let dir = e2e::repo_root().join(format!("desafio{n}"));
    ["README", "ENGINEERING"]
        .iter()
        .map(|stem| dir.join(format!("{stem}{suffix}.md")))
        .filter(|path| path.exists())
        .map(|path| read(&path))
        .collect()
}

/// The rows of challenge `n`'s table under `headings` (English, then
/// Portuguese), from its README and engineering notes, which must be the
/// same in both languages.
fn rows_in_both<R>(n: u32, headings: (&str, &str), rows: impl Fn(&str, &str) -> Vec<R>) -> Vec<R>
where
    R: PartialEq + std::fmt::Debug,
{
    let of = |suffix: &str, heading: &str| -> Vec<R> {
        challenge_docs(n, suffix)
            .iter()
            .flat_map(|doc| rows(doc, heading))
            .collect()
    };
    let en = of("", headings.0);
    assert_eq!(
        en,
        of(".pt-BR", headings.1),
        "desafio{n}: the two languages' tables differ"
    );
    en
}

/// Each challenge's README or engineering notes have a table "From the write-up" ("Do relato" in
/// Portuguese) with a row for every command and URL its write-ups show, and
/// says either that it works as written or what to type instead; that
/// command is one their walk-throughs run (and so its output is
/// checked by `walkthroughs.rs`).
#[test]
fn every_write_up_command_has_a_row_the_walkthrough_runs() {
    use e2e::readme::{walkthrough_commands, write_up_rows};
    for n in 1..=5 {
        let rows = rows_in_both(n, ("## From the write-up", "## Do relato"), write_up_rows);
        let en = challenge_docs(n, "");
        let (commands, text) = write_up_commands_of(n);
        assert!(
            !commands.is_empty(),
            "desafio{n}: no command found in its write-ups"
        );
        for command in &commands {
            assert!(
                rows.iter().any(|r| &r.write_up == command),
                "desafio{n}: the write-up's `{command}` has no row"
            );
        }
        let run: Vec<String> = en
            .iter()
            .flat_map(|doc| walkthrough_commands(doc))
            .collect();
        for row in &rows {
            assert!(
                commands.contains(&row.write_up) || text.contains(&row.write_up),
                "desafio{n}: `{}` is not in its write-ups",
                row.write_up
            );
            let typed = row.typed();
            assert!(
                run.contains(&typed),
                "desafio{n}: the walk-through never runs `{typed}` (the row for `{}`)",
                row.write_up
            );
        }
    }
}

/// The whole text of challenge `n`'s write-ups, write-up 003 included.
fn write_up_text_of(n: u32) -> String {
    let mut text = write_ups_of(n);
    if n == 3 {
        text.push_str(&read(
            &e2e::repo_root().join("write-ups/003_0927871b9c0cb8c5.txt"),
        ));
    }
    text
}

/// Each challenge whose write-ups show output (what a program prints or
/// answers) has a table "The write-up's outputs" ("Saídas do relato") with
/// a row for each: the output as written, and what shows here (the same
/// when it is as written). What shows here is either a line of the
/// walk-through's shown output, which `walkthroughs.rs` compares with the
/// real one, or in the test files the row names, which check it.
#[test]
fn every_write_up_output_has_a_row_that_is_checked() {
    use e2e::readme::{output_rows, shows, steps, write_up_outputs};
    let mut seen = 0;
    for n in 1..=5 {
        let headings = ("## The write-up's outputs", "## Saídas do relato");
        let rows = rows_in_both(n, headings, output_rows);
        let en = challenge_docs(n, "");
        let outputs = write_up_outputs(&write_up_text_of(n));
        for output in &outputs {
            assert!(
                rows.iter().any(|row| shows(output, &row.write_up)),
                "desafio{n}: the write-up's output `{output}` has no row"
            );
        }
        let shown: Vec<String> = en
            .iter()
            .flat_map(|doc| steps(doc))
            .flat_map(|s| s.expected)
            .collect();
        for row in &rows {
            assert!(
                outputs.iter().any(|output| shows(output, &row.write_up)),
                "desafio{n}: `{}` is not an output of its write-ups",
                row.write_up
            );
            if row.checked_by.is_empty() {
                assert!(
                    shown.iter().any(|line| shows(line, &row.here)),
                    "desafio{n}: the walk-through never shows `{}`",
                    row.here
                );
            }
            // The longest fixed part of what shows here, as a test holds it.
            let fixed = row
                .here
                .split(['<', '>'])
                .step_by(2)
                .max_by_key(|piece| piece.len())
                .unwrap_or_default();
            for file in &row.checked_by {
                assert!(
                    read(&e2e::repo_root().join(file)).contains(fixed),
                    "desafio{n}: {file} does not check `{fixed}` (the row for `{}`)",
                    row.write_up
                );
            }
        }
        seen += outputs.len();
    }
    assert!(seen >= 10, "the write-ups' outputs were found ({seen})");
}

#[test]
fn write_up_outputs_are_prints_expected_blocks_and_quotes() {
    let text = "Resposta esperada:\n```json\n{\n  \"a\": 1\n}\n```\n\
                ```python\nprint(f\"Olá {nome}\")\nx = 1\n```\n\
                ```bash\ncurl x\n```\nSaída esperada:\nTudo certo.\n\
                frases “A - B” e “C”.\n";
    assert_eq!(
        e2e::readme::write_up_outputs(text),
        [r#"{ "a": 1 }"#, "Olá {nome}", "Tudo certo.", "A - B", "C"]
    );
    assert!(e2e::readme::shows(
        r#"{"status":"ok","n":2}"#,
        r#""status": "ok""#
    ));
    assert!(e2e::readme::shows(
        "[12:00] Requisição #1 recebida id=9",
        "[<t>] Requisição #<n> recebida"
    ));
    assert!(!e2e::readme::shows(
        "Requisição #1 falhou",
        "Requisição #<n> recebida"
    ));
}
