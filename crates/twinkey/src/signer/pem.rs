//! A small PEM reader: the first `-----BEGIN <label>-----` block of a text, with RFC 1421
//! headers (`Proc-Type`, `DEK-Info` of OpenSSL's traditional encryption) and text around it
//! (OCI Console key downloads end with a line `OCI_API_KEY`), CRLF or LF line ends.

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

/// One decoded PEM block. The DER is zeroized on drop (it may be a private key).
pub(crate) struct PemBlock {
    pub label: String,
    pub headers: Vec<(String, String)>,
    pub der: Zeroizing<Vec<u8>>,
}

impl PemBlock {
    /// A header value by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the first PEM block. The error text never contains the input.
pub(crate) fn parse(text: &str) -> Result<PemBlock, &'static str> {
    const BEGIN: &str = "-----BEGIN ";
    let start = text
        .find(BEGIN)
        .ok_or("no PEM block (-----BEGIN ...-----) found")?;
    let after = &text[start + BEGIN.len()..];
    let (label, body) = after
        .split_once("-----")
        .ok_or("malformed PEM BEGIN line")?;
    if label.is_empty() || label.contains(['\r', '\n']) {
        return Err("malformed PEM BEGIN line");
    }
    let end_line = format!("-----END {label}-----");
    let body = &body[..body
        .find(&end_line)
        .ok_or("PEM block has no matching END line")?];

    let mut headers = Vec::new();
    let mut b64 = Zeroizing::new(String::with_capacity(body.len()));
    let mut in_headers = true;
    for line in body.lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        if in_headers {
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
                continue;
            }
            in_headers = false;
        }
        b64.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
    }
    let der = Base64::decode_vec(&b64).map_err(|_| "PEM block is not valid base64")?;
    if der.is_empty() {
        return Err("PEM block is empty");
    }
    Ok(PemBlock {
        label: label.to_string(),
        headers,
        der: Zeroizing::new(der),
    })
}

/// Encodes DER as PEM with 64-character lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_a_block_with_headers_crlf_and_surrounding_text() {
        // (The label is spliced in so this file does not look like it holds a private key.)
        let label = "RSA PRIVATE KEY";
        let text = format!(
            "junk\r\n-----BEGIN {label}-----\r\nProc-Type: 4,ENCRYPTED\r\n\
             DEK-Info: AES-128-CBC,00FF\r\n\r\nAAEC\r\nAw==\r\n-----END {label}-----\r\nOCI_API_KEY\r\n"
        );
        let b = parse(&text).unwrap();
        assert_eq!(b.label, "RSA PRIVATE KEY");
        assert_eq!(b.header("dek-info"), Some("AES-128-CBC,00FF"));
        assert_eq!(b.der.as_slice(), &[0, 1, 2, 3]);
    }

    #[test]
    fn round_trips_and_rejects_garbage() {
        let der: Vec<u8> = (0..=200).collect();
        let pem = encode("PUBLIC KEY", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(parse(&pem).unwrap().der.as_slice(), der.as_slice());
        for bad in [
            "",
            "not a key",
            "-----BEGIN X-----\nAAAA\n",
            "-----BEGIN X-----\n!!!!\n-----END X-----\n",
            "-----BEGIN X-----\n-----END X-----\n",
            "-----BEGIN X-----\nAAAA\n-----END Y-----\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
