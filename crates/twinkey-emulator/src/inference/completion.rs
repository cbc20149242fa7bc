//! Deterministic completions: the reply is derived from the input (same input, same text),
//! split into token-sized pieces for streaming, with realistic token counts.

use sha2::{Digest, Sha256};

/// Words the generated part of a reply is drawn from.
const VOCABULARY: [&str; 64] = [
    "the",
    "model",
    "answer",
    "request",
    "secret",
    "key",
    "region",
    "stream",
    "token",
    "service",
    "rotation",
    "standby",
    "active",
    "endpoint",
    "response",
    "latency",
    "budget",
    "tenancy",
    "compartment",
    "policy",
    "fail-over",
    "replay",
    "cooldown",
    "probe",
    "usage",
    "limit",
    "chunk",
    "signal",
    "value",
    "state",
    "expiry",
    "window",
    "is",
    "was",
    "will",
    "can",
    "should",
    "keeps",
    "moves",
    "checks",
    "returns",
    "sends",
    "holds",
    "uses",
    "a",
    "an",
    "each",
    "every",
    "one",
    "two",
    "quickly",
    "safely",
    "again",
    "later",
    "now",
    "here",
    "there",
    "with",
    "without",
    "before",
    "after",
    "under",
    "over",
    "through",
];

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// The reply is complete.
    Stop,
    /// The output token limit cut it short.
    Length,
}

impl Finish {
    /// `stop` or `length` (Chat Completions' `finish_reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length => "length",
        }
    }
}

/// A generated reply.
#[derive(Clone, Debug)]
pub struct Completion {
    /// The reply in token-sized pieces (concatenated = the text).
    pub pieces: Vec<String>,
    /// Why it ended.
    pub finish: Finish,
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
}

impl Completion {
    /// The whole reply.
    pub fn text(&self) -> String {
        self.pieces.concat()
    }

    /// Tokens in the reply (one per piece).
    pub fn completion_tokens(&self) -> u32 {
        u32::try_from(self.pieces.len()).unwrap_or(u32::MAX)
    }

    /// Prompt plus reply tokens: what the request costs against a tokens-per-minute limit.
    pub fn total_tokens(&self) -> u64 {
        u64::from(self.prompt_tokens).saturating_add(u64::from(self.completion_tokens()))
    }
}

/// Estimated tokens of a text (about four characters per token, at least one per word).
pub fn count_tokens(text: &str) -> u32 {
    let chars = text.chars().count();
    let words = text.split_whitespace().count();
    u32::try_from(chars.div_ceil(4).max(words)).unwrap_or(u32::MAX)
}

/// A reply to `prompt` (the texts of the input, in order) for `model`; `last_user` is quoted.
pub fn complete(
    model: &str,
    prompt: &[String],
    last_user: &str,
    max_tokens: Option<u32>,
    prompt_tokens: u32,
) -> Completion {
    let mut h = Sha256::new();
    h.update(model.as_bytes());
    for p in prompt {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let seed: [u8; 32] = h.finalize().into();

    let quoted: Vec<&str> = last_user.split_whitespace().take(8).collect();
    let topic = if quoted.is_empty() {
        "your request".to_string()
    } else {
        format!("\"{}\"", quoted.join(" "))
    };
    let mut words: Vec<String> =
        format!("This is a deterministic reply from the twinkey emulator to {topic}.")
            .split_whitespace()
            .map(str::to_string)
            .collect();
    let extra = 8 + usize::from(seed[0] % 25);
    let mut block = seed;
    let mut counter = 0u32;
    for i in 0..extra {
        if i % 32 == 31 {
            counter += 1;
            block = Sha256::new_with_prefix(seed)
                .chain_update(counter.to_le_bytes())
                .finalize()
                .into();
        }
        let mut w = VOCABULARY[usize::from(block[i % 32]) % VOCABULARY.len()].to_string();
        if i == 0 {
            w[..1].make_ascii_uppercase();
        }
        if i + 1 == extra {
            w.push('.');
        }
        words.push(w);
    }
    let limit = max_tokens.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
    let finish = if words.len() > limit {
        Finish::Length
    } else {
        Finish::Stop
    };
    words.truncate(limit);
    let pieces = words
        .into_iter()
        .enumerate()
        .map(|(i, w)| if i == 0 { w } else { format!(" {w}") })
        .collect();
    Completion {
        pieces,
        finish,
        prompt_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_reply_other_input_other_reply() {
        let p = vec!["user".to_string(), "Hello there".to_string()];
        let a = complete("m", &p, "Hello there", None, 10);
        let b = complete("m", &p, "Hello there", None, 10);
        let c = complete("m", &["user".into(), "Bye".into()], "Bye", None, 10);
        assert_eq!(a.text(), b.text());
        assert_ne!(a.text(), c.text());
        assert!(a.text().contains("\"Hello there\""));
        assert_eq!(a.finish, Finish::Stop);
        assert_eq!(a.completion_tokens() as usize, a.pieces.len());
    }

    #[test]
    fn max_tokens_cuts_with_length() {
        let c = complete("m", &[], "", Some(3), 1);
        assert_eq!(c.pieces.len(), 3);
        assert_eq!(c.finish, Finish::Length);
    }

    #[test]
    fn token_estimate_is_plausible() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("hi"), 1);
        assert_eq!(count_tokens("a b c d e"), 5);
        assert_eq!(count_tokens("internationalization"), 5);
    }
}
