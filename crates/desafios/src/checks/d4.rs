//! Desafio 4 (write-up 001): service A lists users on 5001 at `/usuarios`;
//! service B on 7000 asks A by its service name and answers `/info` with a
//! sentence per user.

use serde_json::Value;

use super::{find, publishes, reaches_by_name, waits_for};
use crate::{
    http::list_in,
    report::Section,
    stack::{outcome, Stack},
};

pub async fn check(stack: &Stack) -> (Vec<Section>, Vec<String>) {
    let mut http = Section::new("Microsserviços que conversam por HTTP (001) [1 pt each]");
    let a = stack.http.get(stack.url("service_a"), "/usuarios").await;
    let users: Vec<Value> = a
        .json()
        .as_ref()
        .and_then(list_in)
        .cloned()
        .unwrap_or_default();
    http.push(outcome(
        "service A lists its users",
        1,
        &a.sent,
        "200 with a JSON list of users",
        a.got(),
        a.status() == Some(200) && !users.is_empty(),
    ));
    let b = stack.http.get(stack.url("service_b"), "/info").await;
    let wanted: Vec<Vec<String>> = users.iter().map(sentences).collect();
    // Read from the parsed JSON, so "Usu\u00e1rio" (Flask's default escaping)
    // is the same sentence as "Usuário".
    let said = b.json().map_or_else(|| b.body().to_owned(), |j| texts(&j));
    let unmatched: Vec<&Vec<String>> = wanted
        .iter()
        .filter(|options| !options.iter().any(|s| said.contains(s.as_str())))
        .collect();
    let example = users
        .first()
        .and_then(likely_sentence)
        .unwrap_or_else(|| "Usuário X (Y anos) - ativo desde 2023".to_owned());
    http.push(outcome(
        "service B turns each of A's users into the write-up's sentence",
        1,
        &b.sent,
        format!("200 with one sentence per user of A, such as \"{example}\""),
        match unmatched.first().and_then(|o| o.first()) {
            Some(first) if !users.is_empty() => format!("no \"{first}\" in {}", b.got()),
            _ => b.got(),
        },
        b.status() == Some(200) && !users.is_empty() && unmatched.is_empty(),
    ));

    let Some(engine) = &stack.docker else {
        return (vec![http], vec![]);
    };
    let containers = engine.containers(5001);
    let a_c = find(&containers, &["service_a"]);
    let b_c = find(&containers, &["service_b"]);
    let mut compose = Section::new("Dois serviços independentes no Compose (001) [1 pt each]");
    compose
        .push(publishes(a_c, "service_a", 5001, 1))
        .push(publishes(b_c, "service_b", 7000, 1))
        .push(reaches_by_name(b_c, "service_b", a_c, "service_a", 1))
        .push(waits_for(b_c, "service_b", &["service_a"], false, 1));
    (vec![http, compose], vec![])
}

/// 001's sentence for a user, for each name-like and age-like field it has:
/// `Usuário Ana (25 anos) - ativo desde 2023`.
fn sentences(user: &Value) -> Vec<String> {
    let Some(fields) = user.as_object() else {
        return Vec::new();
    };
    let names = fields.values().filter_map(Value::as_str);
    let ages: Vec<u64> = fields.values().filter_map(Value::as_u64).collect();
    names
        .flat_map(|name| {
            ages.iter()
                .map(move |age| format!("Usuário {name} ({age} anos) - ativo desde 2023"))
        })
        .collect()
}

/// Every string in `value`, one per line.
fn texts(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(texts).collect::<Vec<_>>().join("\n"),
        Value::Object(fields) => fields.values().map(texts).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

/// The sentence for `user` as a reader would guess it, for the expected
/// column: the first text field, and the field named like an age (`idade`,
/// `age`) or else the first whole number that could be one (2023 cannot).
fn likely_sentence(user: &Value) -> Option<String> {
    let fields = user.as_object()?;
    let name = fields.values().find_map(Value::as_str)?;
    let numbers = || fields.iter().filter_map(|(k, v)| Some((k, v.as_u64()?)));
    let age = numbers()
        .find(|(k, _)| k.contains("idade") || k.contains("age"))
        .or_else(|| numbers().find(|(k, n)| *k != "id" && (1..=130).contains(n)))?
        .1;
    Some(format!("Usuário {name} ({age} anos) - ativo desde 2023"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_user_gives_the_sentence_with_its_name_and_age() {
        let options = sentences(&json!({"id": 1, "nome": "Ana", "idade": 25}));
        assert!(options.contains(&"Usuário Ana (25 anos) - ativo desde 2023".to_owned()));
        assert!(sentences(&json!("Ana")).is_empty());
        assert_eq!(
            likely_sentence(&json!({"id": 1, "nome": "Ana", "ativo_desde": 2023, "idade": 25}))
                .unwrap(),
            "Usuário Ana (25 anos) - ativo desde 2023"
        );
    }
}
