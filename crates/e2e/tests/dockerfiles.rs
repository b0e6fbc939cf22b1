//! The Dockerfiles of one challenge share their build: each runs the same
//! build line, so BuildKit compiles the challenge's binaries once for all of
//! its images (the first `docker compose up --build` of a class waits for
//! one compile, not one per image). A Dockerfile whose line drifted from
//! the others would compile everything again; this keeps them together.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

/// The `RUN` instruction of `dockerfile` that calls `build-static.sh`, its
/// continuation lines joined, and what it leaves in `/out`: the binaries it
/// builds, and any folder it makes there (`mkdir -p /out/data`).
fn build_line(dockerfile: &str) -> Option<(String, BTreeSet<String>)> {
    let joined = dockerfile.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|line| line.starts_with("RUN ") && line.contains("docker/build-static.sh"))?;
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let (_, args) = line.split_once("docker/build-static.sh")?;
    let (bins, rest) = args.split_once("&&").unwrap_or((args, ""));
    let made = rest
        .split_whitespace()
        .filter_map(|word| word.strip_prefix("/out/"));
    let outputs = bins
        .split_whitespace()
        .chain(made)
        .map(str::to_owned)
        .collect();
    Some((line, outputs))
}

/// The binaries the final stage copies out of the build stage's `/out`.
fn copied(dockerfile: &str) -> BTreeSet<String> {
    dockerfile
        .lines()
        .filter_map(|line| line.strip_prefix("COPY --from=build "))
        .flat_map(|rest| {
            let mut words: Vec<&str> = rest.split_whitespace().collect();
            words.pop(); // the destination
            words.retain(|word| !word.starts_with("--"));
            words
        })
        .filter_map(|source| source.strip_prefix("/out/"))
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .map(str::to_owned)
        .collect()
}

fn dockerfiles(dir: &Path) -> BTreeMap<String, String> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("Dockerfile"))
        })
        .map(|path| {
            let text =
                fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), text)
        })
        .collect()
}

#[test]
fn a_challenges_dockerfiles_share_one_build_line_that_builds_what_they_copy() {
    let mut images = 0;
    for n in 1..=5 {
        let files = dockerfiles(&e2e::repo_root().join(format!("desafio{n}")));
        assert!(!files.is_empty(), "desafio{n} has no Dockerfile");
        let mut lines = BTreeSet::new();
        for (path, text) in &files {
            let (line, bins) =
                build_line(text).unwrap_or_else(|| panic!("{path}: no build-static.sh line"));
            let missing: Vec<_> = copied(text).difference(&bins).cloned().collect();
            assert!(
                missing.is_empty(),
                "{path} copies {missing:?}, which its build line does not build"
            );
            lines.insert(line);
            images += 1;
        }
        assert_eq!(
            lines.len(),
            1,
            "desafio{n}'s Dockerfiles build with different lines, so BuildKit \
             compiles once per image: {lines:#?}"
        );
    }
    assert!(images >= 11, "every image's Dockerfile was read ({images})");
}

#[test]
fn the_parsers_read_a_build_line_and_the_copied_binaries() {
    let dockerfile = "FROM rust AS build\n\
        RUN --mount=type=cache,target=/x \\\n    docker/build-static.sh a b \\\n && mkdir -p /out/data\n\
        FROM scratch\nCOPY --from=build /out/a /out/b /\nCOPY --from=build --chown=1:1 /out/data /data\n";
    let (line, bins) = build_line(dockerfile).expect("a build line");
    assert!(line.starts_with("RUN --mount=type=cache,target=/x docker/build-static.sh a b"));
    let all = BTreeSet::from(["a".to_owned(), "b".to_owned(), "data".to_owned()]);
    assert_eq!(bins, all);
    assert_eq!(copied(dockerfile), all);
}
