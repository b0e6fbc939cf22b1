//! The READMEs in English and Portuguese teach the same thing: each
//! `README.md` has a `README.pt-BR.md` beside it, each links to the other, and
//! both show the same commands and the same outputs, block for block.
//!
//! What may differ is prose: comments in command and code blocks, untagged
//! blocks (a layout tree with translated notes) and Mermaid labels (only the
//! number of diagrams must match).

use std::{fs, path::Path};

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

fn readme_dirs() -> Vec<std::path::PathBuf> {
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

#[test]
fn every_readme_has_a_portuguese_twin_and_links_to_it() {
    for dir in readme_dirs() {
        let en = read(&dir.join("README.md"));
        let pt = read(&dir.join("README.pt-BR.md"));
        assert!(
            en.contains("(README.pt-BR.md)"),
            "{}: no link to pt-BR",
            dir.display()
        );
        assert!(
            pt.contains("(README.md)"),
            "{}: no link to English",
            dir.display()
        );
    }
}

#[test]
fn both_languages_show_the_same_commands_and_outputs() {
    for dir in readme_dirs() {
        let en: Vec<_> = blocks(&read(&dir.join("README.md")))
            .iter()
            .filter_map(comparable)
            .collect();
        let pt: Vec<_> = blocks(&read(&dir.join("README.pt-BR.md")))
            .iter()
            .filter_map(comparable)
            .collect();
        assert_eq!(en.len(), pt.len(), "{}: number of blocks", dir.display());
        for (i, (a, b)) in en.iter().zip(&pt).enumerate() {
            assert_eq!(a, b, "{}: block {} differs", dir.display(), i + 1);
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
