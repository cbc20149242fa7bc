//! `twinkey sign`: the headers OCI request signing adds to a request — the debugging tool for a
//! refused signature. Prints one `name: value` per line (`--json`: an object with the URL to
//! send, the headers and the signing string); `-v` also prints the signing string.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Map, Value, json};
use twinkey::signer::{DateHeader, RequestParts, SignOptions, format_http_date, parse_http_date};
use twinkey::{Clock, SystemClock, Timestamp};
use zeroize::Zeroize;

use super::oci::ProfileArgs;
use crate::output::{Failure, Output};

/// Arguments of `twinkey sign`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    profile: ProfileArgs,
    /// Sign this `date` (IMF-fixdate like `Thu, 05 Jan 2014 21:31:40 GMT`, RFC 3339, or
    /// `now`) with the Go/Python header lists (the default, at the current time).
    #[arg(long, value_name = "D", conflicts_with = "x_date")]
    date: Option<String>,
    /// Sign `x-date` instead (the oci-common / browser header lists), at D or `now`.
    #[arg(long = "x-date", value_name = "D")]
    x_date: Option<String>,
    /// Sign only the generic headers even for POST/PUT/PATCH (Object Storage PutObject).
    #[arg(long)]
    exclude_body: bool,
    /// The HTTP method.
    method: String,
    /// The absolute URL (https://host/path?query).
    url: String,
    /// A header the request carries, `NAME:VALUE` (repeatable). Signed when it is in the
    /// signed set (content-type, date, ...).
    #[arg(long = "header", short = 'H', value_name = "K:V")]
    headers: Vec<String>,
    /// The body: `@FILE`, `-` for standard input, or the text itself.
    #[arg(long, value_name = "@FILE|-")]
    body: Option<String>,
    /// Also print the signing string (to standard error).
    #[arg(long)]
    show_signing_string: bool,
}

/// The date header's value: an IMF-fixdate is signed verbatim (exactly what a refused request
/// carried, weekday included); RFC 3339 and `now` are formatted as an IMF-fixdate.
fn date(text: &str) -> Result<String, Failure> {
    if text.eq_ignore_ascii_case("now") {
        return Ok(format_http_date(SystemClock.now()));
    }
    if parse_http_date(text).is_some() {
        return Ok(text.trim().to_string());
    }
    Timestamp::parse_rfc3339(text)
        .map(format_http_date)
        .map_err(|_| {
            Failure::new(
                "INVALID_ARGUMENT",
                format!("{text:?} is not a date (IMF-fixdate, RFC 3339 or `now`)"),
            )
        })
}

fn read_body(spec: &str) -> Result<Vec<u8>, Failure> {
    if spec == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Failure::io("standard input", &e))?;
        return Ok(buf);
    }
    if let Some(path) = spec.strip_prefix('@') {
        let path = PathBuf::from(path);
        return std::fs::read(&path).map_err(|e| Failure::io(path.display(), &e));
    }
    Ok(spec.as_bytes().to_vec())
}

/// Runs the command.
pub async fn run(args: Args, out: Output) -> Result<ExitCode, Failure> {
    let (date_header, date_value) = match (&args.date, &args.x_date) {
        (_, Some(x)) => (DateHeader::XDate, Some(date(x)?)),
        (Some(d), None) => (DateHeader::Date, Some(date(d)?)),
        (None, None) => (DateHeader::Date, None),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    // The date header to send: given here, so the signer signs it as given; printed with the
    // headers it adds.
    let date_line = date_value.map(|v| (date_header.name().to_string(), v));
    if let Some(d) = &date_line {
        headers.push(d.clone());
    }
    for h in &args.headers {
        let (name, value) = h.split_once(':').ok_or_else(|| {
            Failure::new(
                "INVALID_ARGUMENT",
                format!(
                    "--header {:?} is not NAME:VALUE",
                    h.split(['\r', '\n']).next().unwrap_or("")
                ),
            )
        })?;
        headers.push((
            name.trim().to_string(),
            value.trim_start_matches([' ', '\t']).to_string(),
        ));
    }
    let mut body = args.body.as_deref().map(read_body).transpose()?;
    let signer = args.profile.signer()?;
    let parts = RequestParts {
        method: &args.method,
        url: &args.url,
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
        body: body.as_deref(),
    };
    let options = SignOptions {
        date_header,
        exclude_body: args.exclude_body,
    };
    let signed = signer.sign(&parts, &options, SystemClock.now());
    if let Some(b) = body.as_mut() {
        b.zeroize();
    }
    let mut signed = signed?;
    if let Some(d) = date_line {
        signed.headers.insert(0, d);
    }
    if out.json {
        let mut map = Map::new();
        for (n, v) in &signed.headers {
            map.insert(n.clone(), Value::String(v.clone()));
        }
        out.json_line(&json!({
            "url": signed.url,
            "headers": map,
            "signingString": signed.signing_string,
            "keyId": if signer.is_session() { "ST$<session token>" } else { signer.key_id() },
            "fingerprint": signer.fingerprint(),
        }));
    } else {
        for (n, v) in &signed.headers {
            println!("{n}: {v}");
        }
        if signed.url != args.url.trim() {
            eprintln!(
                "note: send the URL as {} (that is what was signed)",
                signed.url
            );
        }
    }
    if args.show_signing_string {
        eprintln!("signing string:\n{}", signed.signing_string);
    }
    if signer.is_session() {
        eprintln!(
            "warning: the authorization header carries your session token (keyId ST$...): \
             treat it as a credential; do not paste it into tickets or logs"
        );
    }
    Ok(ExitCode::SUCCESS)
}
