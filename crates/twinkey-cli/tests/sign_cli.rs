//! `twinkey sign` as a user runs it: the shared signing vectors reproduced from the command
//! line (config file, `--date`/`--x-date`, `-H`, `--body @FILE`), and bad input as coded
//! errors (never a panic).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_twinkey");

fn vectors(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/vectors/signing/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("twinkey-sign-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn twinkey(args: &[&str]) -> Run {
    let out = Command::new(BIN).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes an OCI config for `key_id` with the test key `key` (and its pass phrase).
fn config(dir: &Path, key_id: &str, key: &Value) -> PathBuf {
    let key_file = dir.join("key.pem");
    std::fs::write(&key_file, key["private_key_pem"].as_str().unwrap()).unwrap();
    let mut text = "[DEFAULT]\n".to_string();
    if let Some(token) = key_id.strip_prefix("ST$") {
        let token_file = dir.join("token");
        std::fs::write(&token_file, token).unwrap();
        text.push_str(&format!("security_token_file={}\n", token_file.display()));
    } else {
        let parts: Vec<&str> = key_id.split('/').collect();
        text.push_str(&format!(
            "tenancy={}\nuser={}\nfingerprint={}\n",
            parts[0], parts[1], parts[2]
        ));
    }
    text.push_str(&format!("key_file={}\n", key_file.display()));
    if let Some(p) = key["passphrase"].as_str() {
        text.push_str(&format!("pass_phrase={p}\n"));
    }
    let path = dir.join("config");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn reproduces_the_signing_vectors() {
    let keys = vectors("keys.json");
    let mut checked = 0;
    for v in vectors("cases.json")["vectors"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let headers = v["headers"].as_object().unwrap();
        let (date_flag, date) = match (headers.get("date"), headers.get("x-date")) {
            (Some(d), _) => ("--date", d.as_str().unwrap()),
            (None, Some(d)) => ("--x-date", d.as_str().unwrap()),
            _ => continue, // date-generated vectors depend on the clock
        };
        let dir = temp_dir(name);
        let cfg = config(
            &dir,
            v["key_id"].as_str().unwrap(),
            &keys["keys"][v["key"].as_str().unwrap()],
        );
        let cfg = cfg.display().to_string();
        let mut args: Vec<String> = vec![
            "--json".into(),
            "sign".into(),
            "--config".into(),
            cfg,
            date_flag.into(),
            date.into(),
        ];
        for (k, val) in headers {
            if k != "date" && k != "x-date" {
                args.push("-H".into());
                args.push(format!("{k}: {}", val.as_str().unwrap()));
            }
        }
        if v["exclude_body_headers"] == true {
            args.push("--exclude-body".into());
        }
        if let Some(body) = v["body"].as_str() {
            let f = dir.join("body");
            std::fs::write(&f, body).unwrap();
            args.push("--body".into());
            args.push(format!("@{}", f.display()));
        }
        args.push(v["method"].as_str().unwrap().into());
        args.push(v["url"].as_str().unwrap().into());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = twinkey(&argv);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let out: Value = serde_json::from_str(r.stdout.trim()).unwrap();
        assert_eq!(
            out["headers"]["authorization"], v["expected_authorization"],
            "{name}"
        );
        assert_eq!(out["signingString"], v["expected_signing_string"], "{name}");
        if let Some(u) = v["expected_url"].as_str() {
            assert_eq!(out["url"], u, "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        checked += 1;
    }
    assert!(checked >= 25, "{checked} vectors");
}

#[test]
fn human_output_is_one_header_per_line() {
    let keys = vectors("keys.json");
    let dir = temp_dir("human");
    let cfg = config(
        &dir,
        "ocid1.tenancy.oc1..t/ocid1.user.oc1..u/3e:af:72:33:e7:10:23:6d:53:69:e9:f5:96:74:15:39",
        &keys["keys"]["rsa2048-pkcs1"],
    );
    let r = twinkey(&[
        "sign",
        "--config",
        cfg.to_str().unwrap(),
        "--date",
        "Wed, 21 Jan 2026 10:00:00 GMT",
        "POST",
        "https://h.example/20231130/apikeys",
        "--body",
        "{}",
        "--show-signing-string",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "date",
            "host",
            "content-length",
            "content-type",
            "x-content-sha256",
            "authorization"
        ]
    );
    assert!(
        r.stderr
            .contains("(request-target): post /20231130/apikeys")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_a_coded_error_never_a_panic() {
    let keys = vectors("keys.json");
    let dir = temp_dir("bad");
    let good = keys["keys"]["rsa2048-pkcs1"]["private_key_pem"]
        .as_str()
        .unwrap();
    let enc = keys["keys"]["rsa2048-pkcs8-aes256"]["private_key_pem"]
        .as_str()
        .unwrap();
    std::fs::write(dir.join("good.pem"), good).unwrap();
    std::fs::write(dir.join("corrupt.pem"), good.replacen('M', "?", 5)).unwrap();
    std::fs::write(dir.join("enc.pem"), enc).unwrap();
    let d = dir.display();
    let fp = "3e:af:72:33:e7:10:23:6d:53:69:e9:f5:96:74:15:39";
    std::fs::write(
        dir.join("config"),
        format!(
            "[DEFAULT]\ntenancy=ocid1.tenancy.oc1..t\nuser=ocid1.user.oc1..u\nfingerprint={fp}\nkey_file={d}/good.pem\n\n\
             [corrupt]\nkey_file={d}/corrupt.pem\n\n\
             [wrongpass]\nkey_file={d}/enc.pem\npass_phrase=not-the-pass-phrase\n\n\
             [nopass]\nkey_file={d}/enc.pem\n\n\
             [nouser]\nuser=\n\n\
             [nokey]\nkey_file=\n"
        ),
    )
    .unwrap();
    let cfg = dir.join("config");
    let cfg = cfg.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--profile", "corrupt", "GET", "https://h/x"],
            "INVALID_PRIVATE_KEY",
        ),
        (
            vec!["--profile", "wrongpass", "GET", "https://h/x"],
            "BAD_PASSPHRASE",
        ),
        (
            vec!["--profile", "nopass", "GET", "https://h/x"],
            "BAD_PASSPHRASE",
        ),
        (
            vec!["--profile", "nouser", "GET", "https://h/x"],
            "INVALID_CONFIG",
        ),
        (
            vec!["--profile", "nokey", "GET", "https://h/x"],
            "INVALID_CONFIG",
        ),
        (
            vec!["--profile", "absent", "GET", "https://h/x"],
            "INVALID_CONFIG",
        ),
        (vec!["GET", "/20231130/apikeys"], "INVALID_REQUEST"),
        (vec!["GET", "https:///x"], "INVALID_REQUEST"),
        (
            vec!["GET", "https://h/x", "-H", "x-a: b\r\nx-evil: 1"],
            "INVALID_REQUEST",
        ),
        (
            vec!["GET", "https://h/x", "-H", "x-a: b\nx-evil: 1"],
            "INVALID_REQUEST",
        ),
        (
            vec!["GET", "https://h/x", "-H", "bad name: v"],
            "INVALID_REQUEST",
        ),
        (
            vec!["GET", "https://h/x", "-H", "novalue"],
            "INVALID_ARGUMENT",
        ),
        (vec!["GET / HTTP/1.1", "https://h/x"], "INVALID_REQUEST"),
        (
            vec!["--date", "yesterday", "GET", "https://h/x"],
            "INVALID_ARGUMENT",
        ),
        (
            vec!["POST", "https://h/x", "--body", "@/no/such/file"],
            "IO",
        ),
    ];
    for (extra, code) in cases {
        let mut args = vec!["--json", "sign", "--config", cfg];
        args.extend(extra.iter().copied());
        let r = twinkey(&args);
        assert_eq!(r.code, 1, "{extra:?}: {} {}", r.stdout, r.stderr);
        let out: Value = serde_json::from_str(r.stdout.trim())
            .unwrap_or_else(|_| panic!("{extra:?}: {}", r.stdout));
        assert_eq!(out["error"]["code"], code, "{extra:?}: {out}");
        assert!(
            !r.stdout.contains("x-evil") && !r.stderr.contains("x-evil"),
            "{extra:?}"
        );
        assert!(!r.stderr.contains("panicked"), "{extra:?}");
        assert!(
            !r.stdout.contains("not-the-pass-phrase") && !r.stderr.contains("not-the-pass-phrase")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
