//! Zero-downtime rotation (SPEC section 5), sans I/O: the plan and the state machine every
//! binding drives.
//!
//! 1. **prepare_standby** — make the standby usable: activate it, or renew it when it is
//!    revoked, expired or expiring within the window;
//! 2. **verify_standby** — a real authenticated request with the standby succeeds (repeated
//!    while the change propagates; [`probe`]);
//! 3. **switch** — the runner's engine prefers the standby;
//! 4. **retire_old** — deactivate (default) or revoke the old secret;
//! 5. **renew_old**, 6. **park_old** — optionally, a fresh value for the old secret, parked
//!    `INACTIVE` as the next standby.
//!
//! The runner loops: read the key from the control plane, [`Rotation::next`], perform the
//! [`Action`] (for control-plane calls, [`Rotation::start`] first, with the
//! `opc-retry-token` it will send), [`Rotation::complete`], and save the [`Checkpoint`] after
//! every change. Steps are idempotent: one whose goal already holds is skipped, a started
//! call is resent with the same retry token, so a runner killed at any point resumes from the
//! saved checkpoint. A rotation that would leave no usable secret is refused
//! (`ROTATION_REFUSED`); nothing is retired before the standby is verified.

mod checkpoint;
mod effect;
mod machine;
mod options;
pub mod probe;
mod step;

pub use checkpoint::{CHECKPOINT_VERSION, Checkpoint, Pending, StepRecord};
pub use effect::{EngineEffect, engine_effect};
pub use machine::{Rotation, apply_action};
pub use options::{Retire, RotationOptions};
pub use probe::{ProbeDecision, ProbeOutcome, ProbePolicy, ProbeVerdict};
pub use step::{Action, Next, PlannedStep, Step};

/// The checkpoint file a rotation of `key_id` uses unless told otherwise:
/// `.twinkey-rotate-<last 12 characters of the OCID, alphanumerics only>.json` in the working
/// directory. The CLI and every binding use this one name, so a rotation started by one can
/// be resumed by another.
pub fn default_state_file(key_id: &str) -> std::path::PathBuf {
    let start = key_id.char_indices().rev().nth(11).map_or(0, |(i, _)| i);
    let tail: String = key_id[start..]
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    std::path::PathBuf::from(format!(".twinkey-rotate-{tail}.json"))
}

#[cfg(test)]
mod tests {
    use super::default_state_file;

    #[test]
    fn the_default_state_file_is_named_by_the_ocid_tail() {
        let id = "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaa3fwzxioeekefcrr34gwxxtlu.xbdtx";
        assert_eq!(
            default_state_file(id).to_str(),
            Some(".twinkey-rotate-wxxtluxbdtx.json")
        );
        assert_eq!(
            default_state_file("a/b").to_str(),
            Some(".twinkey-rotate-ab.json")
        );
        assert_eq!(
            default_state_file("ключ-ééé").to_str(),
            Some(".twinkey-rotate-.json")
        );
    }
}
