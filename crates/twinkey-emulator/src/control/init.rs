//! `twinkey emulate --init DIR`: an OCI config profile and an RSA key pair so the CLI and the
//! OCI SDKs work against the emulator's control plane out of the box.
//!
//! Writes `DIR/oci/key.pem` (RSA-2048, PKCS#8, mode 0600) and `DIR/oci/config` (profile
//! `DEFAULT`: `user`, `fingerprint`, `tenancy`, `region`, `key_file`, mode 0600), and registers
//! the principal. Existing files are kept and their principal is registered as it is.

use std::path::{Path, PathBuf};

use twinkey::Error;
use twinkey::signer::{OciProfile, Signer, VerifyingKey};

use super::keygen::generate_rsa_2048;
use crate::Emulator;
use crate::store::DEFAULT_REGION;

/// The profile `--init` writes.
pub const PROFILE: &str = "DEFAULT";

/// What [`init_oci_dir`] wrote or found.
#[derive(Clone, Debug)]
pub struct OciFiles {
    /// `DIR/oci/config`.
    pub config: PathBuf,
    /// `DIR/oci/key.pem`.
    pub key_file: PathBuf,
    /// The profile name (`DEFAULT`).
    pub profile: String,
    /// `tenancy` (also the root compartment, where `--init`'s key lives).
    pub tenancy: String,
    /// `user`.
    pub user: String,
    /// `fingerprint` of the key.
    pub fingerprint: String,
    /// `region`.
    pub region: String,
    /// The keyId the emulator accepts.
    pub key_id: String,
    /// Whether the files were written now (false: found and reused).
    pub created: bool,
}

fn io(what: &Path, e: &std::io::Error) -> Error {
    Error::InvalidConfig {
        reason: format!("{}: {e}", what.display()),
    }
}

fn random_suffix() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; 52];
    if getrandom::fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::try_from((t >> (i % 16)) & 0xff).unwrap_or(0);
        }
    }
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect()
}

/// Writes `text` to `path` (created, mode 0600), atomically.
fn write_private(path: &Path, text: &str) -> Result<(), Error> {
    twinkey::files::write_private(path, text.as_bytes(), twinkey::files::Replace::Allow)
        .map_err(|e| io(path, &e))
}

/// Writes (or finds) `dir/oci/config` and `dir/oci/key.pem` and registers the principal with
/// `emulator`.
pub fn init_oci_dir(emulator: &Emulator, dir: &Path) -> Result<OciFiles, Error> {
    let oci = dir.join("oci");
    let config = oci.join("config");
    if config.exists() {
        return register_existing(emulator, &config);
    }
    twinkey::files::create_private_dir(&oci).map_err(|e| io(&oci, &e))?;
    let oci = oci.canonicalize().map_err(|e| io(&oci, &e))?;
    let key_file = oci.join("key.pem");
    let config = oci.join("config");

    let key = generate_rsa_2048()?;
    let tenancy = format!("ocid1.tenancy.oc1..aaaaaaaa{}", random_suffix());
    let user = format!("ocid1.user.oc1..aaaaaaaa{}", random_suffix());
    let fingerprint = key.fingerprint().to_string();
    write_private(&key_file, &key.private_pem)?;
    let text = format!(
        "# Written by `twinkey emulate --init` for the local emulator (not a real tenancy).\n\
         [{PROFILE}]\n\
         user={user}\n\
         fingerprint={fingerprint}\n\
         tenancy={tenancy}\n\
         region={DEFAULT_REGION}\n\
         key_file={}\n",
        key_file.display()
    );
    write_private(&config, &text)?;
    let key_id = emulator
        .principals()
        .add_user(&tenancy, &user, key.verifying_key.clone());
    Ok(OciFiles {
        config,
        key_file,
        profile: PROFILE.to_string(),
        tenancy,
        user,
        fingerprint,
        region: DEFAULT_REGION.to_string(),
        key_id,
        created: true,
    })
}

fn register_existing(emulator: &Emulator, config: &Path) -> Result<OciFiles, Error> {
    let profile = OciProfile::load(config, PROFILE)?;
    if let Some(pem) = profile.key_file.as_deref() {
        // A reused private key must still be private.
        twinkey::files::check_private(Path::new(pem))?;
    }
    let signer = Signer::from_profile(&profile)?;
    let verifying = VerifyingKey::from_pem(&signer.public_key_pem())?;
    let key_id = signer.key_id().to_string();
    emulator.principals().add_key_id(&key_id, verifying);
    let key_file = profile
        .key_file
        .as_deref()
        .map(PathBuf::from)
        .unwrap_or_default();
    Ok(OciFiles {
        config: config.to_path_buf(),
        key_file,
        profile: PROFILE.to_string(),
        tenancy: profile.tenancy.clone().unwrap_or_default(),
        user: profile.user.clone().unwrap_or_default(),
        fingerprint: signer.fingerprint().to_string(),
        region: profile
            .region
            .clone()
            .unwrap_or_else(|| DEFAULT_REGION.to_string()),
        key_id,
        created: false,
    })
}
