use std::{path::PathBuf, process::ExitCode};

/// Where the database lives: `DATA_DIR`, default `/data` (the volume).
fn data_dir() -> PathBuf {
    std::env::var_os("DATA_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/data"), PathBuf::from)
}

fn main() -> ExitCode {
    let aluno = d2_writer::NewAluno::random(&mut fastrand::Rng::new());
    match d2_writer::run(&data_dir(), &aluno) {
        Ok(report) => {
            print!("{}", d2_writer::render(&report));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("erro: {e}");
            ExitCode::FAILURE
        }
    }
}
