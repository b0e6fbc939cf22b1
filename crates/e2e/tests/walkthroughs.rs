//! The READMEs' walk-throughs, run command by command against the real
//! stacks, their shown output compared with what comes back (see
//! `e2e::readme`). The Portuguese READMEs hold the same blocks (checked in
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
    run_walkthrough("desafio1/README.md");
}

#[test]
fn desafio2_readme_walkthrough_holds() {
    let _serial = serial();
    drop(Stack::new("desafio2"));
    let _cleanup = Cleanup::new()
        .container("d2-db")
        .volume("desafio2-volume")
        .sweep();
    run_walkthrough("desafio2/README.md");
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
    run_walkthrough("desafio3/README.md");
}

#[test]
fn desafio4_readme_walkthrough_holds() {
    let _serial = serial();
    drop(Stack::new("desafio4"));
    let _stack_cleanup = DropStack("desafio4");
    run_walkthrough("desafio4/README.md");
}

#[test]
fn desafio5_readme_walkthrough_holds() {
    let _serial = serial();
    drop(Stack::new("desafio5"));
    let _stack_cleanup = DropStack("desafio5");
    run_walkthrough("desafio5/README.md");
}

/// Brings the challenge's stack down at the end even if a step failed.
struct DropStack(&'static str);

impl Drop for DropStack {
    fn drop(&mut self) {
        drop(Stack::new(self.0));
    }
}
