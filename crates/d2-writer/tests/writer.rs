//! The writer's logic on a real SQLite file in a temporary directory.

use std::{fs, thread};

use d2_writer::{render, run, NewAluno, WriterError, DB_FILE};

fn aluno(n: i64) -> NewAluno {
    NewAluno {
        nome: format!("Aluno {n}"),
        idade: 20 + n,
        curso: "Redes".into(),
    }
}

#[test]
fn each_run_adds_one_row_and_sees_the_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &aluno(1)).unwrap();
    assert_eq!(first.all.len(), 1);
    let second = run(dir.path(), &aluno(2)).unwrap();
    assert_eq!(second.all.len(), 2);
    assert_eq!(second.all[0], first.added);
    assert_eq!(second.added.nome, "Aluno 2");
    assert!(second.added.id > first.added.id);
}

#[test]
fn eight_concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &aluno(0)).unwrap();
    let writers: Vec<_> = (1..=8)
        .map(|n| {
            let path = dir.path().to_owned();
            thread::spawn(move || run(&path, &aluno(n)).map(|r| r.added.id))
        })
        .collect();
    let mut ids: Vec<i64> = writers
        .into_iter()
        .map(|w| w.join().unwrap().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8, "every writer got its own row");
    let last = run(dir.path(), &aluno(9)).unwrap();
    assert_eq!(last.all.len(), 10);
}

#[test]
fn a_foreign_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let content = b"nome,idade\nAna,20\n-- not a database --\n".repeat(100);
    fs::write(&path, &content).unwrap();
    let err = run(dir.path(), &aluno(1)).unwrap_err();
    assert!(matches!(err, WriterError::NotADatabase { .. }), "{err}");
    assert!(err.to_string().contains("left untouched"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), content);
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no journal or other file was created");
}

#[test]
fn an_unusable_directory_is_reported_clearly() {
    // A regular file where the directory should be: SQLite cannot create
    // data.db inside it, whoever runs the test (root ignores permissions).
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("data");
    fs::write(&not_a_dir, b"").unwrap();
    let err = run(&not_a_dir, &aluno(1)).unwrap_err();
    assert!(matches!(err, WriterError::NotWritable { .. }), "{err}");
    assert!(err.to_string().contains("cannot write to"), "{err}");
}

#[test]
fn the_table_lists_every_row_and_the_total() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &aluno(1)).unwrap();
    let report = run(
        dir.path(),
        &NewAluno {
            nome: "João Ribeiro".into(),
            idade: 30,
            curso: "Ciência da Computação".into(),
        },
    )
    .unwrap();
    let text = render(&report);
    assert!(
        text.starts_with("Aluno adicionado: #2 João Ribeiro (30 anos)"),
        "{text}"
    );
    assert!(text.contains("| Aluno 1 "), "{text}");
    assert!(text.contains("Total: 2 alunos em"), "{text}");
    // Every table line has the same width, accents included.
    let widths: Vec<usize> = text
        .lines()
        .filter(|l| l.starts_with('|') || l.starts_with('+'))
        .map(|l| l.chars().count())
        .collect();
    assert!(
        widths.len() >= 5 && widths.iter().all(|w| *w == widths[0]),
        "{text}"
    );
}

#[test]
fn random_students_are_plausible() {
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..100 {
        let a = NewAluno::random(&mut rng);
        assert!((17..=45).contains(&a.idade));
        assert!(a.nome.contains(' '));
        assert!(!a.curso.is_empty());
    }
}
