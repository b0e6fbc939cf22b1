//! d3-web's handlers, in-process (tower `oneshot`, no socket), against a
//! real PostgreSQL and Redis. One test binary, one module per resource.

#![allow(clippy::unwrap_used)]

mod alunos;
mod bad_input;
mod faults;
mod freshness;
mod helpers;
mod posts;
mod status;
mod users;
