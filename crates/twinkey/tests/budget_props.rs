//! Properties of the tokens-per-minute budget, against a plain list of charges.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use twinkey::budget::{Admission, Budget, BudgetOptions, Charge, KEEP_SECONDS, Outcome, Policy};
use twinkey::usage::Usage;
use twinkey::{RateLimitHeaders, Timestamp};

#[derive(Clone, Debug)]
enum Op {
    /// Advance the clock by this many milliseconds.
    Advance(u32),
    /// Ask to admit this estimate.
    Admit(u64),
    /// Settle the n-th outstanding charge with this fraction (per mille) of its estimate.
    Settle(usize, u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u32..20_000).prop_map(Op::Advance),
        (1u64..=1_000).prop_map(Op::Admit),
        (0usize..8, 0u16..=1000).prop_map(|(i, f)| Op::Settle(i, f)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// With estimates within the limit and real usage never above them, the tokens counting
    /// at any time never exceed the limit, and they are exactly the live charges less their
    /// refunds.
    #[test]
    fn never_above_the_limit(ops in prop::collection::vec(op(), 1..200)) {
        const LIMIT: u64 = 1_000;
        let mut o = BudgetOptions::per_minute(LIMIT);
        o.policy = Policy::FailFast;
        let budget = Budget::new(o).unwrap();
        let mut now = 0i64;
        // (second charged, tokens now counted) for each charge.
        let mut model: Vec<(i64, u64)> = Vec::new();
        let mut open: Vec<(Charge, usize)> = Vec::new();
        for op in ops {
            match op {
                Op::Advance(ms) => now += i64::from(ms),
                Op::Admit(est) => match budget.admit(est, None, Timestamp::from_millis(now), None) {
                    Ok(Admission::Granted { charge, .. }) => {
                        model.push((now.div_euclid(1000), est));
                        open.push((charge, model.len() - 1));
                    }
                    Ok(Admission::Wait { .. }) => prop_assert!(false, "fail_fast never waits"),
                    Err(e) => {
                        prop_assert_eq!(e.code(), "TPM_BUDGET_EXCEEDED");
                        let live: u64 = model.iter()
                            .filter(|(s, _)| now.div_euclid(1000) - s < KEEP_SECONDS)
                            .map(|(_, t)| t).sum();
                        prop_assert!(live + est > LIMIT, "refused with room: {live} + {est}");
                    }
                },
                Op::Settle(i, per_mille) => {
                    if open.is_empty() { continue; }
                    let (charge, at) = open.remove(i % open.len());
                    let used = charge.tokens() * u64::from(per_mille) / 1000;
                    let s = now.div_euclid(1000);
                    if s - model[at].0 < KEEP_SECONDS {
                        model[at].1 = used;
                    }
                    let outcome = Outcome::Answered { status: 200, usage: Some(Usage::new(used, 0)) };
                    budget.settle(charge, outcome, &RateLimitHeaders::default(), Timestamp::from_millis(now));
                }
            }
            let s = now.div_euclid(1000);
            let live: u64 = model.iter().filter(|(c, _)| s - c < KEEP_SECONDS).map(|(_, t)| t).sum();
            let snap = budget.snapshot(Timestamp::from_millis(now));
            prop_assert_eq!(snap.windows[0].used, live);
            prop_assert!(live <= LIMIT);
        }
    }
}
