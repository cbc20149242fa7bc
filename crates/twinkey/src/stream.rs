//! Whether a streamed (server-sent events) response ended properly, sans I/O.
//!
//! Every binding passes a streamed response through to its caller chunk by chunk and feeds the
//! same chunks to an [`SseMonitor`]. At the end of the body the monitor says whether the stream
//! ended with its end marker or was cut:
//!
//! - Chat Completions streams end with `data: [DONE]`;
//! - Responses API streams end with a `response.completed`, `response.failed` or
//!   `response.incomplete` event.
//!
//! A stream that ends without its marker, or whose transport fails before it, is an
//! [`Error::StreamInterrupted`] (`STREAM_INTERRUPTED`), never a clean end (SPEC section 4).
//! Chunks may be split anywhere, including inside a line, a `\r\n` pair or a UTF-8 sequence.
//! Events are parsed as the HTML standard describes: an event is dispatched at a blank line, so
//! an event that is still open when the stream ends is discarded.
//!
//! ```
//! use twinkey::stream::{SseMonitor, StreamKind, Termination};
//! let mut m = SseMonitor::new(StreamKind::ChatCompletions);
//! m.feed(b"data: {\"choices\":[]}\n\ndata: [DO");
//! m.feed(b"NE]\n\n");
//! assert_eq!(m.finish()?, Termination::Done);
//!
//! let mut cut = SseMonitor::new(StreamKind::ChatCompletions);
//! cut.feed(b"data: {\"choices\":[]}\n\n");
//! assert_eq!(cut.finish().unwrap_err().code(), "STREAM_INTERRUPTED");
//! # Ok::<(), twinkey::Error>(())
//! ```

use std::fmt;

use crate::error::{Error, Result};

/// Largest line or event the parser keeps (bytes). A longer event is dropped, not buffered.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// Which API produced the stream, i.e. which end marker to expect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// Either marker ends the stream (use when the endpoint is not known).
    #[default]
    Auto,
    /// Chat Completions: `data: [DONE]`.
    ChatCompletions,
    /// Responses API: a `response.completed`, `response.failed` or `response.incomplete` event.
    Responses,
}

impl StreamKind {
    /// Parses `auto`, `chat_completions` or `responses`.
    pub fn parse(text: &str) -> Option<StreamKind> {
        match text {
            "auto" => Some(StreamKind::Auto),
            "chat_completions" => Some(StreamKind::ChatCompletions),
            "responses" => Some(StreamKind::Responses),
            _ => None,
        }
    }

    /// `auto`, `chat_completions` or `responses`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Auto => "auto",
            StreamKind::ChatCompletions => "chat_completions",
            StreamKind::Responses => "responses",
        }
    }

    /// The kind that matches a request path: `.../chat/completions` or `.../responses`
    /// (query string ignored); anything else is [`StreamKind::Auto`].
    pub fn for_path(path: &str) -> StreamKind {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = path.trim_end_matches('/');
        if path.ends_with("/chat/completions") {
            StreamKind::ChatCompletions
        } else if path.ends_with("/responses") {
            StreamKind::Responses
        } else {
            StreamKind::Auto
        }
    }

    fn expected(self) -> &'static str {
        match self {
            StreamKind::Auto => "its end marker (data: [DONE] or a terminal response event)",
            StreamKind::ChatCompletions => "data: [DONE]",
            StreamKind::Responses => {
                "a response.completed, response.failed or response.incomplete event"
            }
        }
    }
}

impl fmt::Display for StreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a stream ended properly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Termination {
    /// `data: [DONE]` (Chat Completions).
    Done,
    /// A `response.completed` event.
    Completed,
    /// A `response.failed` event (the model run failed; the stream itself is whole).
    Failed,
    /// A `response.incomplete` event (e.g. the output token limit was reached).
    Incomplete,
}

impl Termination {
    /// `done`, `response.completed`, `response.failed` or `response.incomplete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Termination::Done => "done",
            Termination::Completed => "response.completed",
            Termination::Failed => "response.failed",
            Termination::Incomplete => "response.incomplete",
        }
    }

    fn of_response_event(name: &str) -> Option<Termination> {
        match name {
            "response.completed" => Some(Termination::Completed),
            "response.failed" => Some(Termination::Failed),
            "response.incomplete" => Some(Termination::Incomplete),
            _ => None,
        }
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a `Content-Type` value is `text/event-stream` (parameters and case ignored).
pub fn is_event_stream(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

/// One dispatched server-sent event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when one was given.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` field seen, when any.
    pub id: Option<String>,
}

/// An incremental SSE parser: feed it chunks split anywhere, get whole events back.
#[derive(Clone, Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    line_too_long: bool,
    after_cr: bool,
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    event_too_long: bool,
    last_id: Option<String>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk; appends the events it completes to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) {
        while !chunk.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if chunk[0] == b'\n' {
                    chunk = &chunk[1..];
                    continue;
                }
            }
            match chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(i) => {
                    self.push_line_bytes(&chunk[..i]);
                    self.after_cr = chunk[i] == b'\r';
                    chunk = &chunk[i + 1..];
                    self.end_line(out);
                }
                None => {
                    self.push_line_bytes(chunk);
                    chunk = &[];
                }
            }
        }
    }

    fn push_line_bytes(&mut self, bytes: &[u8]) {
        if self.line_too_long {
            return;
        }
        if self.line.len() + bytes.len() > MAX_EVENT_BYTES {
            self.line_too_long = true;
            self.line = Vec::new();
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let mut line = std::mem::take(&mut self.line);
        if !std::mem::replace(&mut self.started, true) && line.starts_with(b"\xEF\xBB\xBF") {
            line.drain(..3); // a UTF-8 byte order mark at the very start is ignored
        }
        if std::mem::take(&mut self.line_too_long) {
            self.event_too_long = true;
            return;
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // comment
        }
        let text = String::from_utf8_lossy(&line);
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                if self.data.len() + value.len() + 1 > MAX_EVENT_BYTES {
                    self.event_too_long = true;
                    self.data = String::new();
                } else if !self.event_too_long {
                    self.data.push_str(value);
                    self.data.push('\n');
                }
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            _ => {} // `retry` and unknown fields are ignored
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        let mut data = std::mem::take(&mut self.data);
        let has_data = std::mem::take(&mut self.has_data);
        if std::mem::take(&mut self.event_too_long) || !has_data {
            return;
        }
        if data.ends_with('\n') {
            data.pop();
        }
        out.push(SseEvent {
            event,
            data,
            id: self.last_id.clone(),
        });
    }
}

/// Watches a streamed response and decides, at its end, whether it ended properly.
#[derive(Clone, Debug)]
pub struct SseMonitor {
    kind: StreamKind,
    parser: SseParser,
    received: u64,
    events: u64,
    terminal: Option<Termination>,
    scratch: Vec<SseEvent>,
    usage: crate::usage::StreamUsage,
}

impl SseMonitor {
    /// A monitor expecting the end marker of `kind`.
    pub fn new(kind: StreamKind) -> Self {
        SseMonitor {
            kind,
            parser: SseParser::new(),
            received: 0,
            events: 0,
            terminal: None,
            scratch: Vec::new(),
            usage: crate::usage::StreamUsage::new(),
        }
    }

    /// The kind of stream watched.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// Feeds the next chunk of the body (exactly as received) and returns the events it
    /// completed, so a caller that wants them need not parse twice.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.received = self
            .received
            .saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        let mut out = std::mem::take(&mut self.scratch);
        self.parser.feed(chunk, &mut out);
        for e in &out {
            self.events = self.events.saturating_add(1);
            if self.terminal.is_none() {
                self.terminal = self.termination_of(e);
            }
            self.usage.observe(e);
        }
        out
    }

    /// Like [`SseMonitor::feed`] without returning the events.
    pub fn observe(&mut self, chunk: &[u8]) {
        let mut events = self.feed(chunk);
        events.clear();
        self.scratch = events;
    }

    fn termination_of(&self, e: &SseEvent) -> Option<Termination> {
        let chat = matches!(self.kind, StreamKind::Auto | StreamKind::ChatCompletions);
        let responses = matches!(self.kind, StreamKind::Auto | StreamKind::Responses);
        if chat && e.data.trim() == "[DONE]" {
            return Some(Termination::Done);
        }
        if !responses {
            return None;
        }
        match e.event.as_deref() {
            Some(name) if name != "message" => Termination::of_response_event(name),
            _ if e.data.contains("\"response.") => {
                #[derive(serde::Deserialize)]
                struct Typed {
                    #[serde(rename = "type")]
                    ty: Option<String>,
                }
                let typed: Typed = serde_json::from_str(&e.data).ok()?;
                Termination::of_response_event(typed.ty.as_deref()?)
            }
            _ => None,
        }
    }

    /// Bytes fed so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Events dispatched so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The model and token usage the stream reported (Chat Completions' final
    /// `include_usage` chunk, the Responses API's terminal event), as far as it got.
    pub fn usage(&self) -> &crate::usage::BodyFacts {
        self.usage.facts()
    }

    /// The end marker, once seen.
    pub fn terminal(&self) -> Option<Termination> {
        self.terminal
    }

    /// The body ended cleanly (EOF): `Ok` with how the stream ended when its end marker
    /// arrived, else `STREAM_INTERRUPTED`.
    pub fn finish(&self) -> Result<Termination> {
        self.terminal.ok_or_else(|| Error::StreamInterrupted {
            received: self.received,
            reason: format!(
                "the stream ended after {} events without {}",
                self.events,
                self.kind.expected()
            ),
        })
    }

    /// The transport failed while reading the body: `STREAM_INTERRUPTED`, unless the end
    /// marker had already arrived (then nothing was lost and the stream counts as ended).
    pub fn transport_error(&self, reason: &str) -> Result<Termination> {
        self.terminal.ok_or_else(|| Error::StreamInterrupted {
            received: self.received,
            reason: format!(
                "the connection failed after {} events, before {}: {reason}",
                self.events,
                self.kind.expected()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
        }
        out
    }

    #[test]
    fn fields_comments_and_multiline_data() {
        let ev = events(&[b": keep-alive\nevent: x\r\ndata: a\rdata:b\n\nid: 7\ndata:  c\n\n"]);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event.as_deref(), Some("x"));
        assert_eq!(ev[0].data, "a\nb");
        assert_eq!(ev[1].event, None);
        assert_eq!(ev[1].data, " c");
        assert_eq!(ev[1].id.as_deref(), Some("7"));
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let ev = events(&[b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]);
        let data: Vec<&str> = ev.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["a", "b"]);
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        assert!(events(&[b"event: ping\n\n\n\n"]).is_empty());
    }

    #[test]
    fn open_event_at_eof_is_discarded() {
        let mut m = SseMonitor::new(StreamKind::ChatCompletions);
        m.observe(b"data: [DONE]\n");
        assert_eq!(m.finish().unwrap_err().code(), "STREAM_INTERRUPTED");
        m.observe(b"\n");
        assert_eq!(m.finish().unwrap(), Termination::Done);
    }

    #[test]
    fn kinds_expect_their_own_marker() {
        let done = b"data: [DONE]\n\n";
        let completed = b"event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n";
        let check = |kind, body: &[u8]| {
            let mut m = SseMonitor::new(kind);
            m.observe(body);
            m.finish().ok()
        };
        assert_eq!(
            check(StreamKind::ChatCompletions, done),
            Some(Termination::Done)
        );
        assert_eq!(check(StreamKind::Responses, done), None);
        assert_eq!(
            check(StreamKind::Responses, completed),
            Some(Termination::Completed)
        );
        assert_eq!(check(StreamKind::ChatCompletions, completed), None);
        assert_eq!(
            check(StreamKind::Auto, completed),
            Some(Termination::Completed)
        );
        assert_eq!(check(StreamKind::Auto, done), Some(Termination::Done));
    }

    #[test]
    fn huge_lines_are_dropped_not_buffered() {
        let mut m = SseMonitor::new(StreamKind::Auto);
        let big = vec![b'x'; MAX_EVENT_BYTES / 4];
        m.observe(b"data: ");
        for _ in 0..5 {
            m.observe(&big);
        }
        m.observe(b"\n\ndata: [DONE]\n\n");
        assert_eq!(m.events(), 1);
        assert_eq!(m.finish().unwrap(), Termination::Done);
        assert!(m.parser.line.capacity() <= MAX_EVENT_BYTES);
    }

    #[test]
    fn kind_from_path_and_content_type() {
        assert_eq!(
            StreamKind::for_path("/openai/v1/chat/completions?x=1"),
            StreamKind::ChatCompletions
        );
        assert_eq!(
            StreamKind::for_path("/20231130/actions/v1/responses"),
            StreamKind::Responses
        );
        assert_eq!(StreamKind::for_path("/openai/v1/models"), StreamKind::Auto);
        assert!(is_event_stream("text/event-stream; charset=utf-8"));
        assert!(is_event_stream("Text/Event-Stream"));
        assert!(!is_event_stream("application/json"));
    }
}
