//! The Flask implementations in `bench/flask/`, started by their compose
//! files, get the score of what they implement from `desafios check N`; a
//! copy of one with a planted break (a field renamed, a network renamed, a
//! cache never invalidated, a sentence reworded, a gateway that forwards
//! everything) loses exactly the points of that one requirement, and the
//! report names it.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;

use common::{broken_copy, check, failed, report, DESAFIO4_REWORDED};
use e2e::{serial, Stack};
use serde_json::Value;

/// The report of `desafios check N --json`, and the tool's exit code.
fn graded(challenge: &str) -> (Value, Option<i32>) {
    let run = check(&[challenge, "--json"]);
    (report(&run), run.code())
}

/// The Flask stack of `challenge` in `flask` (bench/flask or a broken copy
/// of it), started, checked, and removed.
fn score_of(flask: &Path, challenge: &str) -> (Value, Option<i32>) {
    let stack = Stack::at(flask.join(format!("desafio{challenge}")));
    stack.up();
    graded(challenge)
}

/// The unbroken Flask stack scores full; `broken` loses exactly the points
/// of `requirement`, which the report names as the one failure.
#[track_caller]
fn loses_exactly(challenge: &str, (file, from, to): (&str, &str, &str), requirement: &str) {
    let _guard = serial();
    let (whole, code) = score_of(&e2e::repo_root().join("bench/flask"), challenge);
    assert_eq!(failed(&whole), [], "{whole:#}");
    assert_eq!(whole["score"], whole["max"]);
    assert_eq!(code, Some(0));

    let (_temp, root) = broken_copy(file, from, to);
    let (broken, code) = score_of(&root, challenge);
    let lost = failed(&broken);
    assert_eq!(lost.len(), 1, "one failure expected: {broken:#}");
    assert_eq!(lost[0].0, requirement, "{broken:#}");
    assert_eq!(
        broken["score"].as_u64().unwrap() + lost[0].1,
        whole["score"].as_u64().unwrap(),
        "{broken:#}"
    );
    assert_eq!(broken["max"], whole["max"]);
    assert_eq!(code, Some(1), "not a full score, so exit 1");
}

#[test]
fn desafio1_a_renamed_field_costs_the_json_point() {
    loses_exactly(
        "1",
        (
            "desafio1/app.py",
            "'container_name': os.getenv('HOSTNAME', 'unknown'),\n        'status'",
            "'hostname': os.getenv('HOSTNAME', 'unknown'),\n        'status'",
        ),
        "GET / answers the write-up's JSON",
    );
}

#[test]
fn desafio1_a_renamed_network_costs_the_network_point() {
    loses_exactly(
        "1",
        (
            "desafio1/compose.yaml",
            "networks:\n  desafio1-network:\n    name: desafio1-network",
            "networks:\n  desafio1-network:\n    name: minha-rede",
        ),
        "a custom network desafio1-network or desafio1-net joins the services",
    );
}

#[test]
fn desafio3_a_cache_never_invalidated_on_update_costs_the_invalidation_points() {
    loses_exactly(
        "3",
        (
            "desafio3/app.py",
            "    cache.delete('users_list', f'user_{user_id}')\n    return jsonify(users[0]), 200",
            "    return jsonify(users[0]), 200",
        ),
        "a write invalidates the cache",
    );
}

#[test]
fn desafio4_a_reworded_sentence_costs_the_sentence_point() {
    let (reworded, sentence) = DESAFIO4_REWORDED;
    loses_exactly("4", reworded, sentence);
}

#[test]
fn desafio5_a_gateway_that_forwards_everything_costs_the_routes_point() {
    loses_exactly(
        "5",
        (
            "desafio5/gateway.py",
            "@app.route('/users')\ndef users():",
            "@app.route('/<path:caminho>')\ndef tudo(caminho):\n    return repassar(f'{USERS_URL}/users')\n\n\n@app.route('/users')\ndef users():",
        ),
        "the gateway answers only the paths it names",
    );
}
