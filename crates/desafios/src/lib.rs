//! `desafios check N`: grades a running stack of challenge N against what
//! its write-ups fix (ports, paths, JSON fields, names, outputs), through
//! HTTP and through the Docker Engine API, for ours or anyone's.

pub mod checks;
pub mod cli;
pub mod docker;
pub mod http;
pub mod report;
pub mod stack;
