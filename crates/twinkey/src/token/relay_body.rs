//! What the relay does to every body it passes back, sans I/O: secret values are replaced by
//! `[redacted]` in every body, JSON or streamed, with a rolling window so a value split across
//! chunks is caught too; and for a Responses API creation, the new response's id is read (from
//! the JSON body, or from the stream's first `response.*` event) so the gate can bind it to the
//! token's subject.

use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

use crate::stream::{SseEvent, SseParser};

/// What a redacted value becomes.
pub const REDACTED: &[u8] = b"[redacted]";

/// The most of a JSON body kept to read its `id` (a larger body's id is not recorded).
const MAX_SNIFFED_JSON: usize = 4 * 1024 * 1024;

/// Reading the created response's id.
#[derive(Debug)]
enum Sniffer {
    Json(Vec<u8>),
    Sse(SseParser, Vec<SseEvent>),
}

/// A body on its way back to a relay client.
pub struct BodyFilter {
    needles: Vec<Zeroizing<Vec<u8>>>,
    longest: usize,
    held: Zeroizing<Vec<u8>>,
    redactions: u64,
    sniffer: Option<Sniffer>,
    response_id: Option<String>,
}

impl std::fmt::Debug for BodyFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyFilter")
            .field("values", &self.needles.len())
            .field("redactions", &self.redactions)
            .field("response_id", &self.response_id)
            .finish_non_exhaustive()
    }
}

impl BodyFilter {
    /// A filter redacting `values` (empty ones are ignored); copies are zeroized on drop.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let needles: Vec<Zeroizing<Vec<u8>>> = values
            .into_iter()
            .filter(|v| !v.is_empty())
            .map(|v| Zeroizing::new(v.to_vec()))
            .collect();
        let longest = needles.iter().map(|n| n.len()).max().unwrap_or(0);
        BodyFilter {
            needles,
            longest,
            held: Zeroizing::new(Vec::new()),
            redactions: 0,
            sniffer: None,
            response_id: None,
        }
    }

    /// Also reads the id of the response this body creates (`event_stream`: SSE, else JSON).
    pub fn reading_response_id(mut self, event_stream: bool) -> Self {
        self.sniffer = Some(if event_stream {
            Sniffer::Sse(SseParser::default(), Vec::new())
        } else {
            Sniffer::Json(Vec::new())
        });
        self
    }

    /// How many values were replaced so far.
    pub fn redactions(&self) -> u64 {
        self.redactions
    }

    /// The created response's id, once read (taken: returned once).
    pub fn take_response_id(&mut self) -> Option<String> {
        self.response_id.take()
    }

    /// The bytes of `chunk` safe to send now (a tail that could begin a value is held back
    /// until the next chunk or [`BodyFilter::finish`]).
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.sniff(chunk);
        if self.needles.is_empty() {
            return chunk.to_vec();
        }
        let mut data = std::mem::take(&mut *self.held);
        data.extend_from_slice(chunk);
        let (out, rest) = self.scan(&data, false);
        *self.held = data[rest..].to_vec();
        data.zeroize();
        out
    }

    /// The rest, at the end of the body.
    pub fn finish(&mut self) -> Vec<u8> {
        if let Some(Sniffer::Json(buf)) = self.sniffer.take() {
            self.response_id = serde_json::from_slice::<Value>(&buf)
                .ok()
                .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned));
        }
        let data = std::mem::take(&mut *self.held);
        let (out, _) = self.scan(&data, true);
        let mut data = data;
        data.zeroize();
        out
    }

    /// Redacts `data` up to where a value could still be cut off (all of it when `last`);
    /// returns the output and where the unscanned tail starts.
    fn scan(&mut self, data: &[u8], last: bool) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        'outer: while i < data.len() {
            for n in &self.needles {
                if data[i..].starts_with(n) {
                    out.extend_from_slice(REDACTED);
                    self.redactions += 1;
                    i += n.len();
                    continue 'outer;
                }
            }
            // Hold back only a tail that could begin a value (an SSE event's closing blank
            // line is never held, so events are not delayed).
            if !last
                && data.len() - i < self.longest
                && self.needles.iter().any(|n| n.starts_with(&data[i..]))
            {
                break;
            }
            out.push(data[i]);
            i += 1;
        }
        (out, i)
    }

    fn sniff(&mut self, chunk: &[u8]) {
        if self.response_id.is_some() {
            return;
        }
        match &mut self.sniffer {
            None => {}
            Some(Sniffer::Json(buf)) => {
                if buf.len() + chunk.len() <= MAX_SNIFFED_JSON {
                    buf.extend_from_slice(chunk);
                } else {
                    self.sniffer = None;
                }
            }
            Some(Sniffer::Sse(parser, events)) => {
                parser.feed(chunk, events);
                let found = events.drain(..).find_map(|e| {
                    let v: Value = serde_json::from_str(&e.data).ok()?;
                    let ty = v.get("type").and_then(Value::as_str)?;
                    if !ty.starts_with("response.") {
                        return None;
                    }
                    v.get("response")?.get("id")?.as_str().map(str::to_owned)
                });
                if found.is_some() {
                    self.response_id = found;
                    self.sniffer = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(values: &[&[u8]], chunks: &[&[u8]]) -> Vec<u8> {
        let mut f = BodyFilter::new(values.iter().copied());
        let mut out = Vec::new();
        for c in chunks {
            out.extend(f.feed(c));
        }
        out.extend(f.finish());
        out
    }

    #[test]
    fn values_are_redacted_across_any_split() {
        let body = b"{\"echo\":\"sk-ONE-123456\",\"x\":\"sk-TWO-abc\" sk-ONE-123456}";
        let expect = b"{\"echo\":\"[redacted]\",\"x\":\"[redacted]\" [redacted]}".to_vec();
        let values: [&[u8]; 2] = [b"sk-ONE-123456", b"sk-TWO-abc"];
        assert_eq!(run(&values, &[body]), expect);
        for cut in 0..body.len() {
            let (a, b) = body.split_at(cut);
            assert_eq!(run(&values, &[a, b]), expect, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(run(&values, &bytes), expect);
        assert_eq!(run(&[], &[b"plain"]), b"plain");
        assert_eq!(
            run(&values, &[b"sk-ONE-12345"]),
            b"sk-ONE-12345",
            "a prefix only"
        );
    }

    #[test]
    fn the_created_response_id_is_read() {
        let mut f = BodyFilter::new([]).reading_response_id(false);
        f.feed(br#"{"id":"resp_1","#);
        f.feed(br#""object":"response"}"#);
        f.finish();
        assert_eq!(f.take_response_id().as_deref(), Some("resp_1"));
        let mut f = BodyFilter::new([]).reading_response_id(true);
        f.feed(b"event: response.created\ndata: {\"type\":\"response.cre");
        f.feed(b"ated\",\"response\":{\"id\":\"resp_2\"}}\n\n");
        assert_eq!(f.take_response_id().as_deref(), Some("resp_2"));
        let mut f = BodyFilter::new([]).reading_response_id(true);
        f.feed(b"data: not json\n\ndata: {\"type\":\"other\",\"response\":{\"id\":\"x\"}}\n\n");
        assert_eq!(f.take_response_id(), None);
    }
}
