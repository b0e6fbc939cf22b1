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

use std::{
    cell::RefCell,
    fmt::{self, Write as _},
};

use serde_json::{Map, Value};
use tracing::{
    field::{Field, Visit},
    Event, Level, Subscriber,
};
use tracing_subscriber::{
    field::RecordFields,
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
        // Buffered: the writer thread drains every queued line, then
        // flushes, so under load one `write` call carries many lines (stdout
        // alone would make a system call per line, on the CPU that serves
        // the requests); at rest each line still goes out at once.
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout(),
        ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .fmt_fields(Fields)
        .with_writer(writer);
    if json {
        builder.event_format(JsonLines).try_init()?;
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
        // The request id and span fields follow the message, so the line
        // still starts like the originals' prints.
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        crate::request_id::with_current(|id| match id {
            Some(id) => write!(writer, " request_id={id}"),
            None => Ok(()),
        })?;
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

/// The fields of an event or span as `message key=value ...`, with control
/// characters escaped so that text from a client can neither forge a log
/// line nor send escape sequences to a terminal.
///
/// tracing-subscriber's default does the same through a writer called once
/// per character; this one writes each run of plain text at once. Every
/// request logs a line, and callgrind put the default at about 1,650
/// instructions per line for Desafio 1's, a tenth of the server's work.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields;

impl<'w> FormatFields<'w> for Fields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = FieldWriter {
            out: Escaped(writer),
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct FieldWriter<'w> {
    out: Escaped<'w>,
    first: bool,
    result: fmt::Result,
}

impl FieldWriter<'_> {
    fn write(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.result.is_err() {
            return;
        }
        let separator = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        self.result = match field.name() {
            "message" => write!(self.out, "{separator}{value}"),
            name => write!(self.out, "{separator}{name}={value}"),
        };
    }
}

impl Visit for FieldWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, format_args!("{value}"));
        } else {
            self.write(field, format_args!("{value:?}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, format_args!("{value:?}"));
    }
}

/// Writes text through, escaping control characters (`\n`, `\u{1b}`...).
struct Escaped<'w>(Writer<'w>);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // 0xC2 starts the UTF-8 form of the C1 controls (U+0080..U+009F).
        if !text.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
            return self.0.write_str(text);
        }
        let mut plain = 0;
        for (at, c) in text.char_indices() {
            if c.is_control() {
                self.0.write_str(&text[plain..at])?;
                write!(self.0, "{}", c.escape_debug())?;
                plain = at + c.len_utf8();
            }
        }
        self.0.write_str(&text[plain..])
    }
}

/// `LOG_FORMAT=json`: one object per line with `timestamp`, `level`,
/// `target`, the event's fields (`message` among them) and the request's
/// `request_id` when there is one, the shape log collectors expect.
#[derive(Debug, Clone, Copy)]
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        );
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("target".into(), event.metadata().target().into());
        event.record(&mut JsonFields(&mut line));
        crate::request_id::with_current(|id| {
            if let Some(id) = id {
                line.insert("request_id".into(), id.into());
            }
        });
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields as JSON values.
struct JsonFields<'a>(&'a mut Map<String, Value>);

impl Visit for JsonFields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_line(emit: impl FnOnce()) -> Value {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Capture(sink.clone()))
            .event_format(JsonLines)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.lock().unwrap().clone();
        serde_json::from_slice(&bytes).unwrap()
    }

    struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn readable_fields(emit: impl FnOnce()) -> String {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Capture(sink.clone()))
            .with_ansi(false)
            .fmt_fields(Fields)
            .event_format(Readable)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn readable_lines_start_like_the_originals_and_escape_control_characters() {
        let line = readable_fields(|| tracing::info!("Requisição #{} recebida", 7));
        assert!(line.starts_with('['), "{line}");
        assert!(line.ends_with("] Requisição #7 recebida\n"), "{line:?}");

        let hostile = "a\nb\x1b[31mc\u{9b}d";
        let line = readable_fields(|| tracing::warn!(user = hostile, "got {hostile}"));
        assert_eq!(line.matches('\n').count(), 1, "one line only: {line:?}");
        assert!(
            !line.contains('\x1b') && !line.contains('\u{9b}'),
            "{line:?}"
        );
        assert!(
            line.contains("WARN got a\\nb\\u{1b}[31mc\\u{9b}d user=\"a\\nb"),
            "{line:?}"
        );
    }

    #[test]
    fn json_lines_carry_level_message_and_typed_fields() {
        let line = json_line(|| tracing::warn!(port = 8080, ok = true, "ouvindo em {}", "x"));
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "ouvindo em x");
        assert_eq!(line["port"], 8080);
        assert_eq!(line["ok"], true);
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'), "{line}");
        assert!(line.get("request_id").is_none(), "{line}");
    }
}
