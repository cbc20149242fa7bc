//! Faults for the control plane (admin API `/_emulator/control/faults`): answer the next
//! matching requests with an error status (429 with `Retry-After`, 409 `IncorrectState`,
//! 5xx, ...) after authentication, so clients' retry rules can be tested against the
//! emulator.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One control-plane fault. JSON: `{"status": 503, "times": 2, "operation": "RenewApiKey"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ControlFault {
    /// Only this operation (`CreateApiKey`, `SetApiKeyState`, ...); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The status to answer (400-599).
    pub status: u16,
    /// The OCI error code (default: OCI's code for the status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `Retry-After` seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// How many requests it applies to (default 1).
    #[serde(default = "one")]
    pub times: u64,
}

fn one() -> u64 {
    1
}

impl ControlFault {
    /// Checks the fault.
    pub fn validate(&self) -> Result<(), String> {
        if !(400..=599).contains(&self.status) {
            return Err(format!("status must be 400-599, not {}", self.status));
        }
        if self.times == 0 {
            return Err("times must be at least 1".into());
        }
        if let Some(code) = &self.code
            && (code.is_empty()
                || code.len() > 64
                || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err("code must be 1-64 letters, digits or '_'".into());
        }
        Ok(())
    }
}

/// The pending control-plane faults.
#[derive(Debug, Default)]
pub struct ControlFaults {
    list: Mutex<Vec<ControlFault>>,
}

impl ControlFaults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ControlFault>> {
        self.list
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a fault (after the ones already there).
    pub fn add(&self, fault: ControlFault) -> Result<(), String> {
        fault.validate()?;
        self.lock().push(fault);
        Ok(())
    }

    /// The pending faults.
    pub fn list(&self) -> Vec<ControlFault> {
        self.lock().clone()
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Uses up one application of the first fault matching `operation`.
    pub fn take(&self, operation: &str) -> Option<ControlFault> {
        let mut list = self.lock();
        let i = list
            .iter()
            .position(|f| f.operation.as_deref().is_none_or(|o| o == operation))?;
        let fault = list[i].clone();
        list[i].times -= 1;
        if list[i].times == 0 {
            list.remove(i);
        }
        Some(fault)
    }
}
