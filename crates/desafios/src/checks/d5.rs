//! Desafio 5 (write-up 001): users on 5003 and orders on 5002, and a gateway
//! on 5004, the single entry, answering `/users` and `/orders` by asking the
//! services by name.

use super::{find, publishes, reaches_by_name, waits_for};
use crate::{
    http::list_in,
    report::Section,
    stack::{outcome, Stack},
};

pub async fn check(stack: &Stack) -> (Vec<Section>, Vec<String>) {
    let mut http = Section::new("Microsserviços e gateway (001) [1 pt each]");
    let gateway = stack.url("gateway");
    for (service, path) in [("users_service", "/users"), ("orders_service", "/orders")] {
        let direct = stack.http.get(stack.url(service), path).await;
        let listed = direct
            .json()
            .as_ref()
            .and_then(list_in)
            .is_some_and(|l| !l.is_empty());
        http.push(outcome(
            format!("{service} answers {path}"),
            1,
            &direct.sent,
            "200 with a JSON list",
            direct.got(),
            direct.status() == Some(200) && listed,
        ));
        let through = stack.http.get(gateway, path).await;
        http.push(outcome(
            format!("the gateway forwards {path} to {service}"),
            1,
            &through.sent,
            format!("200 with the same JSON as {service}'s {path}"),
            through.got(),
            through.status() == Some(200) && listed && through.json() == direct.json(),
        ));
    }
    // A gateway is an entry with routes, not an open proxy: a path it does
    // not name must not reach a service.
    let unknown = stack.http.get(gateway, "/desafios-check-unknown").await;
    http.push(outcome(
        "the gateway answers only the paths it names",
        1,
        &unknown.sent,
        "a 4xx",
        unknown.got(),
        unknown.status().is_some_and(|s| (400..500).contains(&s)),
    ));

    let Some(engine) = &stack.docker else {
        return (vec![http], vec![]);
    };
    let containers = engine.containers(5004);
    let users = find(&containers, &["users_service"]);
    let orders = find(&containers, &["orders_service"]);
    let gateway_c = find(&containers, &["gateway"]);
    let mut compose = Section::new("Serviços isolados, gateway como ponto único (001) [1 pt each]");
    compose
        .push(publishes(users, "users_service", 5003, 1))
        .push(publishes(orders, "orders_service", 5002, 1))
        .push(publishes(gateway_c, "gateway", 5004, 1))
        .push(reaches_by_name(
            gateway_c,
            "gateway",
            users,
            "users_service",
            1,
        ))
        .push(reaches_by_name(
            gateway_c,
            "gateway",
            orders,
            "orders_service",
            1,
        ))
        .push(waits_for(
            gateway_c,
            "the gateway",
            &["users_service", "orders_service"],
            false,
            1,
        ));
    (vec![http, compose], vec![])
}
