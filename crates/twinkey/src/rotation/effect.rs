//! What a finished rotation step means for an in-process [`Engine`](crate::Engine) that serves
//! traffic with the key being rotated, so every runner keeps its engine in step the same way.

use super::step::{Action, Step};
use crate::secret::SecretState;

/// The change to make to a running engine once a step is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineEffect {
    /// Nothing to change.
    None,
    /// Install the standby (its renewed value and the service's expiry when it was renewed,
    /// otherwise mark it `ACTIVE`) and prefer it from now on.
    Prefer {
        /// The standby.
        secret: String,
    },
    /// Set a secret's state as the service now reports it.
    SetState {
        /// The secret.
        secret: String,
        /// Its new state.
        state: SecretState,
    },
}

/// The engine change for a finished `step` that took `action`. Engines learn about the
/// standby only at the switch (never before it is verified), and about the old secret when it
/// is retired or parked.
pub fn engine_effect(step: Step, action: &Action) -> EngineEffect {
    match (step, action) {
        (Step::Switch, Action::Switch { to }) => EngineEffect::Prefer { secret: to.clone() },
        (Step::RetireOld | Step::ParkOld, Action::Deactivate { secret, .. }) => {
            EngineEffect::SetState {
                secret: secret.clone(),
                state: SecretState::Inactive,
            }
        }
        (Step::RetireOld, Action::Revoke { secret, .. }) => EngineEffect::SetState {
            secret: secret.clone(),
            state: SecretState::Revoked,
        },
        _ => EngineEffect::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_switch_and_the_retirements_touch_the_engine() {
        let sw = Action::Switch {
            to: "key-two".into(),
        };
        assert_eq!(
            engine_effect(Step::Switch, &sw),
            EngineEffect::Prefer {
                secret: "key-two".into()
            }
        );
        let deact = Action::Deactivate {
            secret: "key-one".into(),
            retry_token: None,
        };
        assert_eq!(
            engine_effect(Step::RetireOld, &deact),
            EngineEffect::SetState {
                secret: "key-one".into(),
                state: SecretState::Inactive
            }
        );
        let act = Action::Activate {
            secret: "key-two".into(),
            retry_token: None,
        };
        assert_eq!(
            engine_effect(Step::PrepareStandby, &act),
            EngineEffect::None
        );
    }
}
