//! Desafio 2 through Docker: a named volume outlives its containers.

use std::thread;

use e2e::{docker, run_in, serial, Cleanup, Run, Stack};

const VOLUME: &str = "desafio2-volume";

/// The "Total: N alunos" figure a run printed.
fn total(run: &Run) -> usize {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix("Total: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no total in:\n{}", run.stdout))
}

/// The student a run says it added ("Aluno adicionado: #3 Ana Souza ...").
fn added(run: &Run) -> String {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix("Aluno adicionado: "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("nothing added in:\n{}", run.stdout))
}

fn build_image() {
    let dir = e2e::repo_root().join("desafio2");
    run_in(
        &dir,
        "docker",
        &["build", "-t", "d2-image", "-f", "Dockerfile", ".."],
        &[],
    )
    .ok();
}

#[test]
fn the_manual_path_keeps_rows_across_container_removal() {
    let _serial = serial();
    let _cleanup = Cleanup::new().container("d2-db").volume(VOLUME).sweep();
    build_image();
    docker(&["volume", "create", VOLUME]).ok();

    let run = || {
        docker(&[
            "run",
            "--name",
            "d2-db",
            "-v",
            "desafio2-volume:/data",
            "d2-image",
        ])
        .ok()
    };
    let first = run();
    assert_eq!(total(&first), 1);
    docker(&["rm", "d2-db"]).ok();
    let second = run();
    assert_eq!(total(&second), 2);
    // The new container printed the row the removed one wrote.
    let first_student = added(&first);
    let first_name = first_student
        .split(" (")
        .next()
        .unwrap()
        .trim_start_matches("#1 ");
    assert!(
        second.stdout.contains(first_name),
        "{first_name} missing:\n{}",
        second.stdout
    );

    // Experiment 4, as the README types it: the volume cannot go while a
    // container uses it, even a stopped one; once that is removed, it can,
    // and the next run starts again at student #1.
    let in_use = docker(&["volume", "rm", VOLUME]);
    assert_ne!(in_use.code(), Some(0), "{in_use:?}");
    assert!(in_use.stderr.contains("in use"), "{in_use:?}");
    docker(&["rm", "d2-db"]).ok();
    docker(&["volume", "rm", VOLUME]).ok();
    let fresh = run();
    assert_eq!(total(&fresh), 1);
    assert!(added(&fresh).starts_with("#1 "), "{}", fresh.stdout);
}

#[test]
fn compose_run_uses_the_same_volume_and_down_v_resets_it() {
    let _serial = serial();
    let _cleanup = Cleanup::new().volume(VOLUME).sweep();
    let stack = Stack::new("desafio2");
    stack.compose(&["build"]).ok();
    let first = stack.compose(&["run", "--rm", "writer"]).ok();
    let second = stack.compose(&["run", "--rm", "writer"]).ok();
    assert_eq!(total(&second), total(&first) + 1);
    // The manual path sees the rows compose wrote: it is one volume.
    let manual = docker(&["run", "--rm", "-v", "desafio2-volume:/data", "d2-image"]).ok();
    assert_eq!(total(&manual), total(&second) + 1);

    stack.compose(&["down", "-v"]).ok();
    let fresh = stack.compose(&["run", "--rm", "writer"]).ok();
    assert_eq!(total(&fresh), 1, "down -v removed the volume");
}

#[test]
fn eight_writers_at_once_add_exactly_eight_rows() {
    let _serial = serial();
    let volume = "desafio2-test-concurrent";
    let _cleanup = Cleanup::new().volume(volume).sweep();
    build_image();
    let mount = format!("{volume}:/data");
    let before = total(&docker(&["run", "--rm", "-v", &mount, "d2-image"]).ok());

    let writers: Vec<_> = (0..8)
        .map(|_| {
            let mount = mount.clone();
            thread::spawn(move || docker(&["run", "--rm", "-v", &mount, "d2-image"]))
        })
        .collect();
    for writer in writers {
        let run = writer.join().unwrap();
        assert!(!run.stderr.contains("locked"), "{}", run.stderr);
        run.ok();
    }
    let after = total(&docker(&["run", "--rm", "-v", &mount, "d2-image"]).ok());
    assert_eq!(
        after,
        before + 8 + 1,
        "eight concurrent rows plus this run's own"
    );
}

#[test]
fn a_read_only_volume_fails_clearly_and_changes_nothing() {
    let _serial = serial();
    let volume = "desafio2-test-readonly";
    let _cleanup = Cleanup::new().volume(volume).sweep();
    build_image();

    // Empty and read-only: the file cannot even be created.
    docker(&["volume", "create", volume]).ok();
    let ro = format!("{volume}:/data:ro");
    let run = docker(&["run", "--rm", "-v", &ro, "d2-image"]);
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(
        run.stderr.contains("cannot write to /data"),
        "{}",
        run.stderr
    );

    // With data, read-only: refused, and the rows are all still there.
    let rw = format!("{volume}:/data");
    let written = total(&docker(&["run", "--rm", "-v", &rw, "d2-image"]).ok());
    let run = docker(&["run", "--rm", "-v", &ro, "d2-image"]);
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(
        run.stderr.contains("cannot write to /data"),
        "{}",
        run.stderr
    );
    let again = total(&docker(&["run", "--rm", "-v", &rw, "d2-image"]).ok());
    assert_eq!(again, written + 1);
}

#[test]
fn a_file_that_is_not_sqlite_is_left_untouched() {
    let _serial = serial();
    let volume = "desafio2-test-foreign";
    let holder = "desafio2-test-holder";
    let _cleanup = Cleanup::new().container(holder).volume(volume).sweep();
    build_image();

    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("data.db");
    let content = "nome;idade\nAna;20\nisto não é um banco SQLite\n".repeat(50);
    std::fs::write(&original, &content).unwrap();
    e2e::copy_into_volume(&original, volume, holder, "d2-image", "data.db");
    let mount = format!("{volume}:/data");

    let run = docker(&["run", "--rm", "-v", &mount, "d2-image"]);
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(
        run.stderr.contains("is not a SQLite database"),
        "{}",
        run.stderr
    );

    let copy_back = dir.path().join("back.db");
    docker(&[
        "cp",
        &format!("{holder}:/data/data.db"),
        copy_back.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(std::fs::read_to_string(&copy_back).unwrap(), content);
}
