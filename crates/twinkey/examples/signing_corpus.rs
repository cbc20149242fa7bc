//! Writes a corpus of requests signed by twinkey, for the cross-checks against the official
//! SDK signers (tests/crosscheck/oci_python.py and oci_common.mjs).
//!
//! ```text
//! cargo run -p twinkey --example signing_corpus -- OUT.json [--count N] [--seed S]
//! ```
//!
//! The generator is deterministic (seeded): methods GET/HEAD/DELETE/POST/PUT/PATCH, paths with
//! spaces, non-ASCII, `%XX` escapes and sub-delimiters, queries with spaces, non-ASCII, `+`,
//! `&` and `=`, bodies of 0 to 64 KiB with non-ASCII text, `date` and `x-date`, user and
//! session-token keyIds, keys in several PEM encodings. Keys come from
//! tests/vectors/signing/keys.json. Inputs avoid the few spots where the SDKs normalize URLs
//! differently from each other (see tests/vectors/README.md, "Signing vectors").

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};
use twinkey::Timestamp;
use twinkey::signer::{DateHeader, RequestParts, SignOptions, SignatureParams, Signer};

/// splitmix64: small, seeded, good enough to pick test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaatwinkeycrosschecktenancy";
const USER: &str = "ocid1.user.oc1..aaaaaaaatwinkeycrosscheckuser";
const TOKEN: &str =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImNyb3NzY2hlY2sifQ.eyJzdWIiOiJ0d2lua2V5LWNyb3NzY2hlY2sifQ.c2ln";
const DATE: &str = "Wed, 21 Jan 2026 10:00:00 GMT";
const NOW: &str = "2026-01-21T10:00:00.250Z";

const HOSTS: &[&str] = &[
    "https://generativeai.us-chicago-1.oci.oraclecloud.com",
    "https://inference.generativeai.eu-frankfurt-1.oci.oraclecloud.com",
    "https://GenerativeAI.US-Ashburn-1.OCI.oraclecloud.com",
    "https://localhost:8443",
    "http://127.0.0.1:9000",
];
const SEGMENTS: &[&str] = &[
    "20231130",
    "apikeys",
    "actions",
    "setstate",
    "renew",
    "changeCompartment",
    "openai",
    "v1",
    "chat",
    "completions",
    "a b",
    "clé",
    "日本語",
    "emoji😀",
    "x%2Fy",
    "100%25",
    "~user",
    "a+b",
    "it's",
    "(x)",
    "!$&*,;=:@",
    "\"q\"",
    "<t>",
    "{c}",
    "p|q",
    "c^d",
    "`tick`",
    "back\\slash",
    "50%off",
    ".",
    "..",
];
const QUERY_NAMES: &[&str] = &[
    "compartmentId",
    "displayName",
    "lifecycleState",
    "limit",
    "page",
    "sortBy",
    "sortOrder",
    "q",
    "id",
];
const QUERY_VALUES: &[&str] = &[
    "ocid1.compartment.oc1..aaaaaaaatwinkey",
    "team key",
    "équipe clé",
    "日本 語",
    "a+b",
    "a%2Bb",
    "x%26y%3Dz",
    "AAAA%3D%3D",
    "ACTIVE",
    "10",
    "timeCreated",
    "DESC",
    "\"quoted\"",
    "<b>",
    "{x}|y^z`w",
    "50%",
    "=",
    "",
    "☃",
    "a:b@c/d?e",
    "~-._",
];
const BODY_METHODS: &[&str] = &["POST", "PUT", "PATCH"];
const METHODS: &[&str] = &["GET", "HEAD", "DELETE", "POST", "PUT", "PATCH"];
const TEXT: &[&str] = &[
    "a", "b", "c", " ", "\"", "{", "}", ":", ",", "0", "9", "é", "€", "日", "本", "☃", "😀", "\n",
    "\\", "ü",
];

/// Whether `s` has a `%` that starts no `%XX` escape, and whether it has a `%XX` escape.
fn percent_kinds(s: &str) -> (bool, bool) {
    let b = s.as_bytes();
    let escape = |i: usize| {
        b.get(i + 1..i + 3)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    };
    let lone = (0..b.len()).any(|i| b[i] == b'%' && !escape(i));
    let valid = (0..b.len()).any(|i| b[i] == b'%' && escape(i));
    (lone, valid)
}

/// Picks from `pool` an item that does not mix a lone `%` with `%XX` escapes in the same path
/// or query: Python's requests then re-encodes every `%` (double-encoding the escapes) while
/// WHATWG parsers keep the lone `%`; twinkey encodes only the lone `%` (documented rule).
fn pick_part(rng: &mut Rng, pool: &[&'static str], component: &str) -> &'static str {
    loop {
        let item = rng.pick(pool);
        let (lone, valid) = percent_kinds(&format!("{component}{item}"));
        if !(lone && valid) {
            return item;
        }
    }
}

fn url(rng: &mut Rng) -> String {
    let mut path = String::new();
    for _ in 0..1 + rng.below(5) {
        path.push('/');
        let segment = pick_part(rng, SEGMENTS, &path);
        path.push_str(segment);
    }
    if rng.chance(15) {
        path.push('/');
    }
    let params = rng.below(5);
    let mut query = String::new();
    for i in 0..params {
        if i > 0 {
            query.push('&');
        }
        query.push_str(rng.pick(QUERY_NAMES));
        query.push('=');
        let value = pick_part(rng, QUERY_VALUES, &query);
        query.push_str(value);
    }
    let mut u = format!("{}{path}", rng.pick(HOSTS));
    if params > 0 || rng.chance(5) {
        u.push('?');
        u.push_str(&query);
    }
    if rng.chance(5) {
        u.push_str("#fragment");
    }
    u
}

fn body(rng: &mut Rng) -> Option<String> {
    if rng.chance(10) {
        return None;
    }
    let sizes = [0, 1, 2, 17, 100, 1024, 4096, 16 * 1024, 65_536];
    let target = if rng.chance(50) {
        rng.pick(&sizes)
    } else {
        rng.below(65_537)
    };
    let mut s = String::with_capacity(target + 4);
    while s.len() < target {
        let piece = rng.pick(TEXT);
        if s.len() + piece.len() > target {
            break;
        }
        s.push_str(piece);
    }
    while s.len() < target {
        s.push('x');
    }
    Some(s)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out: Option<PathBuf> = None;
    let (mut count, mut seed) = (300usize, 20_260_121u64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--count" => count = args.next().ok_or("--count N")?.parse()?,
            "--seed" => seed = args.next().ok_or("--seed S")?.parse()?,
            _ => out = Some(PathBuf::from(a)),
        }
    }
    let out = out.ok_or("usage: signing_corpus OUT.json [--count N] [--seed S]")?;

    let keys_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/signing/keys.json");
    let keys: Value = serde_json::from_str(&std::fs::read_to_string(&keys_path)?)?;
    let key_names = [
        "rsa2048-pkcs1",
        "rsa2048-pkcs8",
        "rsa2048-pkcs8-aes256",
        "rsa2048-legacy-aes128",
        "rsa4096-pkcs1",
    ];
    let mut signers: HashMap<(String, bool), Signer> = HashMap::new();
    let now = Timestamp::parse_rfc3339(NOW)?;
    let mut rng = Rng(seed);
    let mut cases = Vec::with_capacity(count);

    for i in 0..count {
        let method = rng.pick(METHODS);
        let x_date = rng.chance(50);
        let session = rng.chance(30);
        let key = rng.pick(&key_names);
        let raw_url = url(&mut rng);
        let is_body = BODY_METHODS.contains(&method);
        let body = if is_body { body(&mut rng) } else { None };
        let exclude = method == "PUT" && rng.chance(20);
        let date_name = if x_date { "x-date" } else { "date" };
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if rng.chance(85) {
            headers.push((date_name, DATE));
        }
        if rng.chance(30) {
            headers.push(("opc-request-id", "CROSSCHECK0000000000000000000001"));
        }
        if is_body && rng.chance(25) {
            let ct = rng.pick(&[
                "application/json; charset=utf-8",
                "text/plain",
                "application/octet-stream",
            ]);
            headers.push(("content-type", ct));
        }

        let k = &keys["keys"][key];
        let signer = match signers.entry((key.to_string(), session)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let pem = k["private_key_pem"].as_str().ok_or("key pem")?;
                let pass = k["passphrase"].as_str();
                let fp = k["fingerprint"].as_str().ok_or("fingerprint")?;
                let s = if session {
                    Signer::session(TOKEN, pem, pass)?
                } else {
                    Signer::from_pem(&format!("{TENANCY}/{USER}/{fp}"), pem, pass)?
                };
                e.insert(s)
            }
        };
        let options = SignOptions {
            date_header: if x_date {
                DateHeader::XDate
            } else {
                DateHeader::Date
            },
            exclude_body: exclude,
        };
        let request = RequestParts {
            method,
            url: &raw_url,
            headers: headers.clone(),
            body: body.as_deref().map(str::as_bytes),
        };
        let signed = signer.sign(&request, &options, now)?;
        let auth = signed.authorization();
        let params = SignatureParams::parse(auth)?;
        let header_map: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(n, v)| ((*n).to_string(), json!(v)))
            .collect();
        let added: serde_json::Map<String, Value> = signed
            .headers
            .iter()
            .filter(|(n, _)| n != "authorization")
            .map(|(n, v)| (n.clone(), json!(v)))
            .collect();
        cases.push(json!({
            "name": format!("corpus-{i:04}-{}-{date_name}{}", method.to_lowercase(),
                            if session { "-session" } else { "" }),
            "method": method,
            "url": raw_url,
            "sent_url": signed.url,
            "headers": header_map,
            "body": body,
            "key": key,
            "key_id": signer.key_id(),
            "session": session,
            "date_header": date_name,
            "exclude_body_headers": exclude,
            "signed_headers": params.headers,
            "added_headers": added,
            "signature": params.signature,
            "authorization": auth,
        }));
    }
    let doc = json!({
        "description": "Requests signed by twinkey (examples/signing_corpus.rs); the cross-checks re-sign each \
                        with the official SDKs and compare signature= and headers=.",
        "seed": seed,
        "now": NOW,
        "keys_file": "tests/vectors/signing/keys.json",
        "cases": cases,
    });
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&doc)?)?;
    println!("wrote {} signed requests to {}", count, out.display());
    Ok(())
}
