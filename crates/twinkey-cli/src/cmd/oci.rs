//! Options shared by the commands that talk to OCI (`sign`, `keys`, `rotate`): the OCI config
//! file and profile (like the OCI CLI: `~/.oci/config`, `DEFAULT`), and where the control plane
//! is (`--endpoint`, else the profile's region).

use std::path::PathBuf;

use twinkey::signer::Signer;
use twinkey_client::ControlPlaneClient;

use crate::output::Failure;

/// `--config`, `--profile`.
#[derive(clap::Args, Debug, Clone)]
pub struct ProfileArgs {
    /// The OCI config file.
    #[arg(long, value_name = "FILE", default_value = "~/.oci/config")]
    pub config: PathBuf,
    /// The profile in the config file.
    #[arg(long, value_name = "NAME", default_value = "DEFAULT")]
    pub profile: String,
}

impl ProfileArgs {
    /// The profile's signer (user principal, or session token with `security_token_file`).
    pub fn signer(&self) -> Result<Signer, Failure> {
        let signer = Signer::from_config(&self.config, &self.profile)?;
        if let Some((configured, actual)) = signer.fingerprint_mismatch() {
            eprintln!(
                "warning: the profile's fingerprint {configured} is not the key's ({actual}); OCI will refuse the signature"
            );
        }
        Ok(signer)
    }
}

/// `--config`, `--profile`, `--endpoint`, `--region`.
#[derive(clap::Args, Debug, Clone)]
pub struct ControlArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// The control-plane endpoint, e.g. the emulator's `http://127.0.0.1:8080` (default:
    /// `https://generativeai.<region>.oci.oraclecloud.com`).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The region (default: the profile's `region`).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

impl ControlArgs {
    /// A control-plane client signed by the profile.
    pub fn client(&self) -> Result<ControlPlaneClient, Failure> {
        let signer = self.profile.signer()?;
        let client = match (&self.endpoint, &self.region) {
            (Some(e), _) => ControlPlaneClient::new(signer, e)?,
            (None, Some(r)) => ControlPlaneClient::for_region(signer, r)?,
            (None, None) => ControlPlaneClient::from_profile_region(signer)?,
        };
        Ok(client)
    }

    /// The profile's tenancy (the root compartment), the default compartment of `keys`.
    pub fn tenancy(&self) -> Result<String, Failure> {
        let p = twinkey::signer::OciProfile::load(&self.profile.config, &self.profile.profile)?;
        p.tenancy.ok_or_else(|| {
            Failure::new(
                "INVALID_ARGUMENT",
                "give --compartment-id (the profile has no tenancy to default to)",
            )
        })
    }

    /// The OpenAI-compatible inference base URL that goes with the endpoint: the emulator
    /// serves both planes (`<endpoint>/openai/v1`); otherwise the region's inference host.
    pub fn inference_url(&self, region: Option<&str>) -> Result<String, Failure> {
        let region = self.region.as_deref().or(region);
        twinkey::control::probe_inference_base(self.endpoint.as_deref(), region)?
            .ok_or_else(|| Failure::new("INVALID_ARGUMENT", "give --inference-url or --region"))
    }
}
