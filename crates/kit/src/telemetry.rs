//! Logging set-up, shared by every service: lines like the Flask originals'
//! `print`s (`[2025-01-01 12:00:00] Requisição #1 recebida`), so that
//! `docker logs` of both tell the same story, or tracing-subscriber's JSON
//! lines with `LOG_FORMAT=json`. `RUST_LOG` filters as usual (default
//! `info`). Each line goes straight to stdout, where `docker logs` reads it.

use std::fmt;

use crate::config::Env;

use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::{
    filter::Targets,
    fmt::{format::Writer, FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter},
    layer::SubscriberExt,
    registry::LookupSpan,
    util::SubscriberInitExt,
};

/// Installs the global subscriber (an error, not a panic, if one already is).
/// Call it first thing in `main`.
pub fn init() -> Result<(), tracing_subscriber::util::TryInitError> {
    // Colours only on a terminal: `docker logs` would show the escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    // Written as it happens, one line at a time, nothing queued: a line a
    // learner looks for is never lost, nor left in a buffer when the process
    // stops. (A writer thread would only move the wait: with a queue that may
    // not drop lines, a full pipe blocks requests all the same.)
    dispatch(&Env::process(), ansi, std::io::stdout).try_init()
}

/// What `init` installs: readable lines to `writer` (JSON if `LOG_FORMAT` is
/// `json`), filtered by `RUST_LOG` (`info,d5_gateway::forward=debug`, say).
pub fn dispatch<W>(env: &Env, ansi: bool, writer: W) -> Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // `Targets` reads that syntax without the regex engine `EnvFilter` compiles.
    let filter = (env.raw("RUST_LOG").and_then(|v| v.parse::<Targets>().ok()))
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO));
    // `filter` alone decides: the builder's own level (INFO) would drop debug.
    let builder = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .with_ansi(ansi)
        .with_writer(writer);
    if env
        .raw("LOG_FORMAT")
        .is_some_and(|v| v.eq_ignore_ascii_case("json"))
    {
        let json = builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false);
        Dispatch::new(json.finish().with(filter))
    } else {
        Dispatch::new(builder.event_format(Readable).finish().with(filter))
    }
}

/// `[2025-01-01 12:00:00] message key=value request_id=...`, in UTC as
/// containers run, the level shown only when it is not INFO. It arranges
/// only what tracing-subscriber provides (its own formats put the level and
/// span names before the message).
#[derive(Debug, Clone, Copy)]
pub struct Readable;

impl<S, N> FormatEvent<S, N> for Readable
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = chrono::Utc::now().format("[%Y-%m-%d %H:%M:%S] ");
        write!(writer, "{now}")?;
        let level = *event.metadata().level();
        if level != Level::INFO {
            write!(writer, "{level} ")?;
        }
        ctx.format_fields(writer.by_ref(), event)?;
        for span in ctx.event_scope().into_iter().flat_map(|s| s.from_root()) {
            if let Some(fields) = span.extensions().get::<FormattedFields<N>>() {
                if !fields.is_empty() {
                    write!(writer, " {fields}")?;
                }
            }
        }
        writeln!(writer)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// The readable lines `init` would write, filtered as by `rust_log`, and
    /// what they have written.
    pub(crate) fn capture(rust_log: Option<&str>, json: bool) -> (Dispatch, Arc<Mutex<Vec<u8>>>) {
        let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = buffer.clone();
        let format = if json { "json" } else { "readable" };
        let env = Env::from_pairs([("RUST_LOG", rust_log.unwrap_or("")), ("LOG_FORMAT", format)]);
        let dispatch = dispatch(&env, false, move || Capture(sink.clone()));
        (dispatch, buffer)
    }

    /// A readable-format subscriber for tests, and what it has written.
    pub(crate) fn readable() -> (Dispatch, Arc<Mutex<Vec<u8>>>) {
        capture(None, false)
    }

    /// What `emit` logs, in the readable format or the JSON one.
    fn logged(json: bool, emit: impl FnOnce()) -> String {
        logged_with(None, json, emit)
    }

    fn logged_with(rust_log: Option<&str>, json: bool, emit: impl FnOnce()) -> String {
        let (dispatch, buffer) = capture(rust_log, json);
        tracing::dispatcher::with_default(&dispatch, emit);
        let bytes = buffer.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn readable_lines_start_like_the_originals_and_end_with_the_request_id() {
        let line = logged(false, || tracing::info!("Requisição #{} recebida", 7));
        assert!(line.starts_with('['), "{line}");
        assert!(line.ends_with("] Requisição #7 recebida\n"), "{line:?}");

        let line = logged(false, || {
            let _span = tracing::info_span!("request", request_id = %"r-1").entered();
            tracing::warn!(port = 8080, "lento");
        });
        assert!(
            line.ends_with("] WARN lento port=8080 request_id=r-1\n"),
            "{line:?}"
        );
        // Escape sequences from a client cannot reach a terminal.
        let line = logged(false, || tracing::info!("got {}", "a\x1b[31mb"));
        assert!(!line.contains('\x1b'), "{line:?}");
    }

    #[test]
    fn json_lines_carry_level_message_typed_fields_and_the_request_id() {
        let line = logged(true, || {
            let _span = tracing::info_span!("request", request_id = %"r-1").entered();
            tracing::warn!(port = 8080, ok = true, "ouvindo em {}", "x");
        });
        let line: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "ouvindo em x");
        assert_eq!(line["port"], 8080);
        assert_eq!(line["ok"], true);
        assert_eq!(line["span"]["request_id"], "r-1");
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'), "{line}");
    }

    #[test]
    fn rust_log_names_targets_and_levels_and_defaults_to_info() {
        let emit = || {
            tracing::debug!(target: "d5_gateway::forward", "forwarded");
            tracing::debug!(target: "d5_gateway::discovery", "looked up");
            tracing::info!(target: "d5_gateway", "ouvindo");
        };
        let lines = logged_with(Some("info,d5_gateway::forward=debug"), false, emit);
        assert!(lines.contains("DEBUG forwarded"), "{lines}");
        assert!(!lines.contains("looked up"), "{lines}");
        assert!(lines.contains("ouvindo"), "{lines}");
        for default in [None, Some("not a filter=at all=")] {
            let lines = logged_with(default, false, emit);
            assert!(!lines.contains("DEBUG"), "{default:?}: {lines}");
            assert!(lines.contains("ouvindo"), "{default:?}: {lines}");
        }
    }
}
