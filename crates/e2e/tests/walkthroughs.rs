//! The READMEs' walk-throughs, and then those of the challenges'
//! engineering notes, run command by command against the real stacks, their
//! shown output compared with what comes back (see `e2e::readme`). The Portuguese READMEs hold the same blocks (checked in
//! `readmes.rs`), so this checks both languages.

use e2e::{readme::run_walkthrough, serial, Cleanup, Stack};

#[test]
fn desafio1_readme_walkthrough_holds() {
    let _serial = serial();
    // Start from nothing, as a learner would, and leave nothing behind.
    drop(Stack::new("desafio1"));
    let _cleanup = Cleanup::new()
        .container("client")
        .container("server")
        .network("desafio1-net")
        .sweep();
    let _stack_cleanup = DropStack("desafio1");
    walk("desafio1");
}

#[test]
fn desafio2_readme_walkthrough_holds() {
    let _serial = serial();
    drop(Stack::new("desafio2"));
    let _cleanup = Cleanup::new()
        .container("d2-db")
        .volume("desafio2-volume")
        .sweep();
    walk("desafio2");
}

#[test]
fn desafio3_readme_walkthrough_holds() {
    let _serial = serial();
    drop(Stack::new("desafio3"));
    // The README's manual `docker run` path (write-up 003) uses these names.
    let _cleanup = Cleanup::new()
        .container("web")
        .container("db")
        .container("cache")
        .network("minha-rede")
        .volume("pgdata")
        .sweep();
    let _stack_cleanup = DropStack("desafio3");
    walk("desafio3");
}

#[test]
fn desafio4_readme_walkthrough_holds() {
    let _serial = serial();
    drop(Stack::new("desafio4"));
    let _stack_cleanup = DropStack("desafio4");
    walk("desafio4");
}

#[test]
fn desafio5_readme_walkthrough_holds() {
    let _serial = serial();
    drop(Stack::new("desafio5"));
    let _stack_cleanup = DropStack("desafio5");
    walk("desafio5");
}

/// Runs the challenge's README, then its `ENGINEERING.md` if it has one:
/// each starts from the challenge's folder and leaves its stack down.
fn walk(challenge: &str) {
    run_walkthrough(&format!("{challenge}/README.md"));
    let notes = format!("{challenge}/ENGINEERING.md");
    if e2e::repo_root().join(&notes).exists() {
        run_walkthrough(&notes);
    }
}

/// Brings the challenge's stack down at the end even if a step failed.
struct DropStack(&'static str);

impl Drop for DropStack {
    fn drop(&mut self) {
        drop(Stack::new(self.0));
    }
}
