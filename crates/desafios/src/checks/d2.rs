//! Desafio 2 (write-up 001): a program that adds a student to a SQLite file
//! in `/data` and prints every row; a new container on the same volume sees
//! the rows of the ones before. No HTTP: the check runs the learner's image
//! itself, on volumes of its own that it removes afterwards.

use std::{collections::HashSet, time::Duration};

use bollard::{models::VolumeCreateOptions, query_parameters::RemoveVolumeOptionsBuilder};

use crate::{
    report::Section,
    stack::{outcome, Stack},
};

/// How long one run of the image may take (a first SQLite file included).
const RUN_DEADLINE: Duration = Duration::from_secs(60);

pub async fn check(stack: &Stack, image: &str) -> (Vec<Section>, Vec<String>) {
    let mut section = Section::new("Volumes e persistência (001) [1 pt each]");
    let Some(engine) = &stack.docker else {
        // Nothing of this challenge is HTTP.
        return (
            vec![],
            vec!["Desafio 2 is checked through Docker only".to_owned()],
        );
    };
    let docker = &engine.docker;
    let tag = format!("desafios-check-{}", std::process::id());
    let (kept, control) = (format!("{tag}-volume"), format!("{tag}-empty"));
    for name in [&kept, &control] {
        let options = VolumeCreateOptions {
            name: Some(name.clone()),
            ..Default::default()
        };
        if let Err(e) = docker.create_volume(options).await {
            section.push(outcome(
                "the image runs on a volume",
                3,
                format!("docker volume create {name}"),
                "a volume",
                e.to_string(),
                false,
            ));
            return (vec![section], vec![]);
        }
    }
    let first = crate::docker::run_once(docker, image, &kept, RUN_DEADLINE).await;
    let second = crate::docker::run_once(docker, image, &kept, RUN_DEADLINE).await;
    let fresh = crate::docker::run_once(docker, image, &control, RUN_DEADLINE).await;
    for name in [&kept, &control] {
        let _ = docker
            .remove_volume(
                name,
                Some(RemoveVolumeOptionsBuilder::new().force(true).build()),
            )
            .await;
    }
    let run = format!("docker run -v {kept}:/data {image}");
    section.push(outcome(
        "the image adds a student and prints the rows",
        1,
        &run,
        "exit code 0 and some output",
        describe(&first),
        matches!(&first, Ok((0, out)) if !out.trim().is_empty()),
    ));
    // Rows the first and second runs both print that a run on an empty
    // volume does not: the first run's student, read back from the volume.
    let persisted: Vec<String> = match (&first, &second, &fresh) {
        (Ok((_, one)), Ok((0, two)), Ok((_, empty))) => {
            let two: HashSet<String> = two.lines().map(words).collect();
            let empty: HashSet<String> = empty.lines().map(words).collect();
            one.lines()
                .map(words)
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .filter(|w| two.contains(w) && !empty.contains(w))
                .collect()
        }
        _ => Vec::new(),
    };
    section.push(outcome(
        "a new container sees the rows of the one before",
        1,
        format!("{run}, twice, and once on an empty volume"),
        "the second run prints a line of the first that a run on an empty volume does not",
        match (&second, persisted.first()) {
            (_, Some(line)) => format!("the second run printed again: {line}"),
            (Ok(_), None) => format!(
                "no line of the first run came back; second run: {}",
                describe(&second)
            ),
            (Err(_), None) => describe(&second),
        },
        !persisted.is_empty(),
    ));
    let grew = match (&second, &fresh) {
        (Ok((_, two)), Ok((_, empty))) => two.lines().count() > empty.lines().count(),
        _ => false,
    };
    section.push(outcome(
        "each run adds a row",
        1,
        format!("{run}, the second time"),
        "more lines than a run on an empty volume",
        match (&second, &fresh) {
            (Ok((_, two)), Ok((_, empty))) => format!(
                "{} lines, against {} on an empty volume",
                two.lines().count(),
                empty.lines().count()
            ),
            _ => describe(&fresh),
        },
        grew,
    ));
    let named = engine
        .snapshot
        .volumes
        .iter()
        .any(|v| v == "desafio2-volume");
    section.push(outcome(
        "the write-up's volume exists",
        1,
        "docker volume ls",
        "a volume desafio2-volume",
        if named {
            "desafio2-volume"
        } else {
            "no volume desafio2-volume"
        },
        named,
    ));
    (vec![section], vec![])
}

/// A printed line as its words, so a row compares equal however wide a
/// table pads it (`| 1  | Ana |` and `| 1 | Ana   |` are both `1 Ana`).
fn words(line: &str) -> String {
    line.split(|c: char| c.is_whitespace() || c == '|' || c == '│')
        .filter(|w| !w.chars().all(|c| "+-=─┌┐└┘├┤┬┴┼".contains(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe(run: &Result<(i64, String), String>) -> String {
    match run {
        Ok((code, out)) => format!(
            "exit {code}, {} lines: {}",
            out.lines().count(),
            out.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
        ),
        Err(why) => why.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn a_row_is_its_words_however_the_table_pads_it() {
        assert_eq!(
            words("| 1  | Ana Lima | 20 |"),
            words("| 1 | Ana Lima   | 20  |")
        );
        assert_eq!(words("+----+-------+"), "");
        assert_ne!(words("| 1 | Ana |"), words("| 2 | Ana |"));
    }
}
