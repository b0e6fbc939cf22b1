//! Desafio 3 (write-ups 001, 002, 003, 004): a web API with a database and
//! Redis under Compose, and a page on 8501. 004's rubric gives the points of
//! its sections; 002's and 003's endpoints count one point each.

use reqwest::Method;
use serde_json::{json, Value};

use super::{find, listed, says_healthy, waits_for};
use crate::{
    docker::Container,
    http::{list_in, object_in, Answer},
    report::Section,
    stack::{is_default, outcome, Stack},
};

pub async fn check(stack: &Stack) -> (Vec<Section>, Vec<String>) {
    let web = stack.url("web");
    let client = &stack.http;
    let not_judged = vec![
        "[5 pts] README com explicação da arquitetura (004)".to_owned(),
        "ORM and a modular structure, of [5 pts] Clareza e boas práticas (004)".to_owned(),
    ];

    // One user of our own, so that runs never collide: a fresh e-mail.
    let email = format!("check-{}@desafios.test", std::process::id());
    let user = |name: &str| json!({"name": name, "email": email});
    let created = client
        .send(Method::POST, web, "/users", Some(&user("Ana")))
        .await;
    let id = created
        .json()
        .as_ref()
        .and_then(object_in)
        .and_then(|u| u.get("id").and_then(Value::as_i64));
    let path = format!("/users/{}", id.unwrap_or(0));
    let read_1 = client.get(web, &path).await;
    let read_2 = client.get(web, &path).await;

    let mut talk = Section::new("[5 pts] Comunicação entre serviços funcionando (004)");
    let page = client.get(stack.url("page"), "/").await;
    talk.push(outcome(
        "the page answers on 8501",
        2,
        &page.sent,
        "200",
        shorten_html(&page),
        page.status() == Some(200),
    ));
    talk.push(outcome(
        "the API keeps a created user",
        1,
        format!("{}, then GET {path}", created.sent),
        "201, then 200 with the same e-mail",
        format!("{}; then {}", created.got(), read_1.got()),
        created.status() == Some(201)
            && read_1.status() == Some(200)
            && read_1.body().contains(&email),
    ));
    talk.push(outcome(
        "a second read comes from Redis",
        2,
        format!("{} (the second time)", read_2.sent),
        "200 saying it came from the cache (from_cache: true, or fonte: cache)",
        read_2.got(),
        read_2.status() == Some(200) && from_cache(read_2.json().as_ref()),
    ));

    let mut practice = Section::new("[5 pts] Clareza e boas práticas (004)");
    let renamed = client
        .send(Method::PUT, web, &path, Some(&user("Bia")))
        .await;
    let read_3 = client.get(web, &path).await;
    practice.push(outcome(
        "a write invalidates the cache",
        3,
        format!("{}, then GET {path}", renamed.sent),
        "the new name, not the cached one",
        format!("{}; then {}", renamed.got(), read_3.got()),
        renamed.status().is_some_and(|s| (200..300).contains(&s))
            && read_3
                .json()
                .as_ref()
                .and_then(object_in)
                .is_some_and(|u| u.get("name") == Some(&json!("Bia"))),
    ));
    let duplicate = client
        .send(Method::POST, web, "/users", Some(&user("Ana")))
        .await;
    practice.push(outcome(
        "a duplicate e-mail is an error for the caller, not a crash",
        2,
        &duplicate.sent,
        "a 4xx (409)",
        duplicate.got(),
        duplicate.status().is_some_and(|s| (400..500).contains(&s)),
    ));
    let _ = client.send(Method::DELETE, web, &path, None).await;

    let mut posts = Section::new("API de posts (002) [1 pt each]");
    posts.push(says_healthy(stack, web).await);
    let status = client.get(web, "/status").await;
    posts.push(outcome(
        "GET /status sees the database and the cache",
        1,
        &status.sent,
        "\"banco_dados\": \"conectado\" and \"cache\": \"conectado\"",
        status.got(),
        status
            .json()
            .is_some_and(|j| j["banco_dados"] == "conectado" && j["cache"] == "conectado"),
    ));
    let post = json!({"titulo": "Check", "conteudo": "desafios check", "autor": "desafios"});
    let new_post = client
        .send(Method::POST, web, "/api/posts", Some(&post))
        .await;
    posts.push(outcome(
        "POST /api/posts creates a post",
        1,
        &new_post.sent,
        "201",
        new_post.got(),
        new_post.status() == Some(201),
    ));
    let list = client.get(web, "/api/posts").await;
    posts.push(outcome(
        "GET /api/posts lists the posts",
        1,
        &list.sent,
        "200 with a list holding the new post",
        list.got(),
        list.status() == Some(200)
            && list.json().as_ref().and_then(list_in).is_some()
            && list.body().contains("desafios check"),
    ));
    let _ = client.get(web, "/api/posts/cache").await;
    let cached = client.get(web, "/api/posts/cache").await;
    posts.push(outcome(
        "GET /api/posts/cache answers from Redis the second time",
        1,
        format!("{} (the second time)", cached.sent),
        "\"fonte\": \"cache\"",
        cached.got(),
        cached.json().is_some_and(|j| j["fonte"] == "cache"),
    ));

    let mut visits = Section::new("Contador de visitas (003) [1 pt each]");
    let one = client.get(web, "/").await;
    let two = client.get(web, "/").await;
    visits.push(outcome(
        "GET / counts a visit",
        1,
        format!("{}, twice", one.sent),
        "a count one higher the second time",
        format!("{}; then {}", one.got(), two.got()),
        counted(&one, &two),
    ));
    let log = client.get(web, "/log").await;
    visits.push(outcome(
        "GET /log lists the visits from the database",
        1,
        &log.sent,
        "200 with a list",
        log.got(),
        log.status() == Some(200)
            && log
                .json()
                .as_ref()
                .and_then(list_in)
                .is_some_and(|l| !l.is_empty()),
    ));

    let Some(engine) = &stack.docker else {
        return (vec![talk, practice, posts, visits], not_judged);
    };
    let containers = engine.containers(5000);
    let web_c = containers.iter().copied().find(|c| c.publishes(5000));
    let db = by_image(&containers, &["postgres"]).or_else(|| find(&containers, &["db"]));
    let cache =
        by_image(&containers, &["redis"]).or_else(|| find(&containers, &["cache", "redis"]));
    let mut compose = Section::new("[10 pts] Compose funcional e bem estruturado (004)");
    let three = [web_c, db, cache];
    compose.push(outcome(
        "the API, a database and Redis run as services",
        2,
        "the stack's containers",
        "the API (publishing 5000), PostgreSQL and Redis",
        listed(&containers),
        three.iter().all(Option::is_some),
    ));
    let members: Vec<&Container> = three.iter().flatten().copied().collect();
    let shared: Vec<&String> = members
        .first()
        .map(|c| {
            c.networks
                .keys()
                .filter(|n| !is_default(n) && members.iter().all(|m| m.on(n)))
                .collect()
        })
        .unwrap_or_default();
    compose.push(outcome(
        "a custom network joins them",
        2,
        "the stack's networks",
        "one network of their own holding the API, the database and Redis",
        if shared.is_empty() {
            format!("no network holds {}", listed(&members))
        } else {
            format!("{} holds {}", shared[0], listed(&members))
        },
        members.len() == 3 && !shared.is_empty(),
    ));
    let dependencies: Vec<&str> = [db, cache]
        .iter()
        .flatten()
        .filter_map(|c| c.service.as_deref())
        .collect();
    let mut order = waits_for(web_c, "the API", &dependencies, true, 2);
    order.passed &= dependencies.len() == 2;
    compose.push(order);
    let volume = db.and_then(|c| c.volumes.first());
    compose.push(outcome(
        "the data lives on a named volume",
        2,
        "the database's mounts",
        "a named volume",
        match (db, volume) {
            (None, _) => "no database container".to_owned(),
            (Some(c), None) => format!("{} mounts no named volume", c.label()),
            (Some(_), Some((name, at))) => format!("{name} at {at}"),
        },
        volume.is_some(),
    ));
    compose.push(outcome(
        "the API's settings come from environment variables",
        2,
        "the API's environment",
        "variables set by the compose file",
        match web_c {
            None => "no API container".to_owned(),
            Some(c) => format!(
                "{}: {}",
                c.label(),
                c.env_set
                    .iter()
                    .map(|v| v.split('=').next().unwrap_or(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        web_c.is_some_and(|c| !c.env_set.is_empty()),
    ));
    (vec![compose, talk, practice, posts, visits], not_judged)
}

/// The first container whose image names one of `images`.
fn by_image<'a>(containers: &[&'a Container], images: &[&str]) -> Option<&'a Container> {
    containers
        .iter()
        .copied()
        .find(|c| images.iter().any(|i| c.image.contains(i)))
}

/// Whether an answer says it came from the cache.
fn from_cache(body: Option<&Value>) -> bool {
    body.is_some_and(|b| b["from_cache"] == true || b["fonte"] == "cache" || b["source"] == "cache")
}

/// Whether some count in the second answer is one more than in the first.
fn counted(one: &Answer, two: &Answer) -> bool {
    let numbers = |a: &Answer| -> Vec<u64> {
        a.body()
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    let (a, b) = (numbers(one), numbers(two));
    a.len() == b.len() && a.iter().zip(&b).any(|(x, y)| *y == x + 1)
}

/// A page's status and title, not its whole HTML.
fn shorten_html(page: &Answer) -> String {
    match (page.status(), page.body().split("<title>").nth(1)) {
        (Some(status), Some(rest)) => {
            format!(
                "{status} <title>{}",
                rest.split("</title>").next().unwrap_or("")
            )
        }
        _ => page.got(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> Answer {
        Answer {
            sent: "GET /".into(),
            result: Ok((200, body.into())),
        }
    }

    #[test]
    fn a_visit_is_counted_when_one_count_grows_by_one() {
        let one = answer("Banco PostgreSQL tem 4 registros. Redis conta 4 visitas.");
        let two = answer("Banco PostgreSQL tem 5 registros. Redis conta 5 visitas.");
        assert!(counted(&one, &two));
        assert!(!counted(&one, &one));
    }

    #[test]
    fn cached_answers_say_so_in_any_of_the_usual_fields() {
        assert!(from_cache(Some(&json!({"from_cache": true}))));
        assert!(from_cache(Some(&json!({"fonte": "cache"}))));
        assert!(!from_cache(Some(
            &json!({"fonte": "banco_de_dados", "from_cache": false})
        )));
        assert!(!from_cache(None));
    }
}
