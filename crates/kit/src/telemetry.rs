//! Logging set-up, shared by every service.
//!
//! The readable format mirrors the Flask originals' `print` lines
//! (`[2025-01-01 12:00:00] Requisição #1 recebida`) so a learner comparing
//! `docker logs` of both sees the same story; the level is shown only when it
//! is not INFO. `LOG_FORMAT=json` switches to one JSON object per line for log
//! collectors. `RUST_LOG` filters as usual (default `info`).
//!
//! Lines are written by a background thread, so a request never waits on a
//! `write` to stdout; the [`Guard`] returned by [`init`] flushes what is left
//! when the process ends, so no line is lost on a stop.

use std::{cell::RefCell, fmt};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::{
    fmt::{format::Writer, FmtContext, FormatEvent, FormatFields},
    registry::LookupSpan,
    EnvFilter,
};

/// Keeps the log writer alive; dropping it flushes the remaining lines.
pub type Guard = tracing_appender::non_blocking::WorkerGuard;

/// Installs the global subscriber. Call once, first thing in `main`, and
/// hold the guard until the end of `main`. Returns an error (instead of
/// panicking) if a subscriber is already installed.
pub fn init() -> Result<Guard, Box<dyn std::error::Error + Send + Sync>> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    // Colours only on a terminal: `docker logs` would show the escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    // Not lossy: under a burst the writer slows requests down rather than
    // drop lines a learner may be looking for.
    // The queue is allocated whole at start-up: 1024 lines is plenty for a
    // writer thread that drains it continuously, and costs ~40 KB where the
    // default (128k lines) would cost megabytes of idle memory.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(1024)
        .lossy(false)
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()?;
    } else {
        builder.event_format(Readable).try_init()?;
    }
    Ok(guard)
}

/// `[YYYY-MM-DD HH:MM:SS] ` for now, formatted once per second per thread:
/// every request logs a line, and formatting a date is not free.
fn write_timestamp(writer: &mut Writer<'_>) -> fmt::Result {
    thread_local! {
        static LAST: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let now = chrono::Utc::now();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != now.timestamp() {
            *last = (
                now.timestamp(),
                now.format("[%Y-%m-%d %H:%M:%S] ").to_string(),
            );
        }
        writer.write_str(&last.1)
    })
}

/// `[2025-01-01 12:00:00] message key=value`, in UTC as containers run.
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
        write_timestamp(&mut writer)?;
        let level = *event.metadata().level();
        if level != Level::INFO {
            write!(writer, "{level} ")?;
        }
        // Span fields (a request id, say) follow the message, so the line
        // still starts like the originals' prints.
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(fields) = span
                    .extensions()
                    .get::<tracing_subscriber::fmt::FormattedFields<N>>()
                {
                    if !fields.is_empty() {
                        write!(writer, " {fields}")?;
                    }
                }
            }
        }
        writeln!(writer)
    }
}
